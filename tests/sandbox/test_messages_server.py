"""The issue's must-show, with the real curl binary against ``commstoolkit sandbox serve`` (a
real subprocess): the documented send to a pool answers 202 and its operation completes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from commstoolkit.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

from .test_server import _curl, _serving

USER = f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_curl_sends_to_a_pool_and_the_operation_completes(tmp_path: Path):
    with _serving(tmp_path / "served.sqlite3") as (url, _):
        pools = json.loads(_curl("-u", USER, f"{url}/preview/SenderPools")[1])["senderPools"]
        pool = next(p["id"] for p in pools if p["name"] == "Customer Support - NAMER")
        body = (
            '{"from": {"senderPoolId": "' + pool + '"}, "to": [{"address": "+19143188062", '
            '"channel": "PHONE"}, {"address": "+19143188063", "channel": "WHATSAPP"}], '
            '"content": {"text": "Hello, World!"}}'
        )
        headers = tmp_path / "headers.txt"
        status, answer = _curl(
            "-u", USER, "-X", "POST", "-H", "Content-Type: application/json", "-d", body,
            "-D", str(headers), f"{url}/preview/Messages",
        )  # fmt: skip
        assert status == 202, answer
        accepted = json.loads(answer)
        location = accepted["operationLocation"]
        assert location == f"{url}/preview/Messages/Operations/{accepted['operationId']}"
        lines = headers.read_text().splitlines()
        assert [ln.split(":", 1)[1].strip() for ln in lines
                if ln.lower().startswith("location:")] == [location]  # fmt: skip

        # Sandbox time runs in real time here; move it on instead of waiting.
        clock = _curl("-u", USER, "-H", "Content-Type: application/json",
                      "-d", '{"advance": 30}', f"{url}/_sandbox/clock")  # fmt: skip
        assert clock[0] == 200
        deadline = time.monotonic() + 15
        while True:
            operation = json.loads(_curl("-u", USER, location)[1])
            if operation["status"] == "COMPLETED" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert operation["status"] == "COMPLETED"
        stats = operation["stats"]
        assert (stats["total"], stats["recipients"], stats["unaddressable"]) == (2, 2, 0)
        assert stats["queued"] == stats["sent"] == 0 and stats["attempts"] >= 2

        query = f"{url}/preview/Messages?operationId={accepted['operationId']}"
        listed = json.loads(_curl("-u", USER, query)[1])["messages"]
        assert [m["to"][0]["channel"] for m in listed] == ["PHONE", "WHATSAPP"]
        assert {m["from"]["senderPoolId"] for m in listed} == {pool}
        whatsapp = json.loads(_curl("-u", USER, f"{url}/preview/Messages/{listed[1]['id']}")[1])
        assert [a["from"]["channel"] for a in whatsapp["attempts"]] == ["WHATSAPP"]
        assert whatsapp["content"] == {"text": "Hello, World!"}
