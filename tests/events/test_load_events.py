"""``ct.load_events``: the files a sink's data ends in (JSON arrays, JSON lines, folders of
them), each event once, the same frame as a receiver's; bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest

import commstoolkit as ct

COMMS = "com.twilio.comms-api."


def event(n: int, status: str = "delivered", attempt: int = 1) -> dict:
    return {
        "specversion": "1.0", "type": f"{COMMS}message.{status}", "source": "/v1/Messages/m",
        "id": f"e{n}", "time": f"2025-06-02T09:00:{n:02d}.500Z",
        "data": {"message_id": f"m{n % 2}", "operation_id": "op", "attempt": attempt,
                 "error_code": 30003 if status == "undelivered" else None,
                 "from": {"id": "s", "address": "+14155550000", "channel": "SMS"},
                 "to": {"address": f"+1415555010{n % 2}", "channel": "PHONE"},
                 "tags": {"campaign": "x"}},
    }  # fmt: skip


def test_a_folder_of_arrays_and_json_lines_gives_each_event_once(tmp_path: Path):
    (tmp_path / "stream" / "2025" / "06").mkdir(parents=True)
    (tmp_path / "stream" / "batch-1.json").write_text(json.dumps([event(1), event(2)]))
    as_text = {**event(4), "data": json.dumps(event(4)["data"])}  # data as a JSON string
    lines = [json.dumps(event(3, "undelivered")), json.dumps([event(2), as_text])]
    (tmp_path / "stream" / "2025" / "06" / "part.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "stream" / "notes.txt").write_text("not events")
    frame = ct.load_events(tmp_path / "stream")
    assert frame["id"].tolist() == ["e1", "e2", "e3", "e4"]
    row = frame.set_index("id").loc["e3"]
    assert (row["status"], row["error_code"], row["recipient"]) == (
        "UNDELIVERED",
        30003,
        "+14155550101",
    )
    assert frame.set_index("id").loc["e4", "tags"] == {"campaign": "x"}  # data as a JSON string
    assert frame.equals(ct.load_events([tmp_path / "stream" / "batch-1.json",
                                        tmp_path / "stream" / "2025"]))  # fmt: skip


def test_a_message_reads_in_the_order_things_happened(tmp_path: Path):
    same_time = "2025-06-02T09:00:05.000Z"
    first = {**event(5, "failed", attempt=1), "time": same_time}
    second = {**event(7, "queued", attempt=2), "time": same_time}
    for e in (first, second):
        e["data"] = {**e["data"], "message_id": "m"}
    (tmp_path / "a.json").write_text(json.dumps([second, first]))
    frame = ct.load_events(tmp_path / "a.json")
    assert frame["status"].tolist() == ["FAILED", "QUEUED"]  # attempt 1 ends, then 2 starts


@pytest.mark.parametrize(
    ("content", "said"),
    [("[{\"id\": 1}]", "not a CloudEvent"), ("{nope", "is not JSON"),
     (json.dumps([{**event(1), "time": None}]), "no type or time")],
)  # fmt: skip
def test_a_file_holding_something_else_is_named(tmp_path: Path, content: str, said: str):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ct.InvalidInputError, match=said) as caught:
        ct.load_events(path)
    assert "bad.json" in str(caught.value)


def test_a_missing_path_is_named(tmp_path: Path):
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.load_events(tmp_path / "nowhere")
    assert caught.value.field == "path_or_paths" and "nowhere" in str(caught.value)


def test_the_sandbox_history_written_as_a_stream_reads_back_as_the_api_reports(tmp_path: Path):
    """The seeded traffic history's events, written as a Kinesis stream delivered to storage
    would leave them (a JSON-lines file per day), load as one frame that agrees with the API
    message by message; every history message is in it, each event once."""
    with ct.Sandbox(":memory:", speed=0, traffic_days=2, daily_messages=150) as sandbox:
        files = sandbox.events.write_history(tmp_path / "stream")
        assert [f.name for f in files] == [
            "events-2025-05-31.jsonl", "events-2025-06-01.jsonl", "events-2025-06-02.jsonl"
        ]  # fmt: skip
        frame = ct.load_events(tmp_path / "stream")
        assert frame["id"].is_unique
        messages = frame.dropna(subset=["message_id"])
        assert messages["message_id"].nunique() == sandbox.state()["messages"]
        with httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url,
                          auth=sandbox.credentials()) as api:  # fmt: skip
            listed = api.get("/Messages", params={
                "startDate": "2025-05-31T00:00:00Z", "endDate": "2025-06-02T09:00:00Z",
                "pageSize": 60,
            }).json()["messages"]  # fmt: skip
            assert len(listed) == 60
            for item in listed:
                detail = api.get(f"/Messages/{item['id']}").json()
                mine = messages[messages["message_id"] == item["id"]]
                assert mine["status"].iloc[-1] == detail["status"]
                assert mine["attempt"].max() == len(detail["attempts"])
                for n, attempt in enumerate(detail["attempts"], 1):
                    steps = mine[mine["attempt"] == n]
                    assert steps["status"].iloc[-1] == attempt["status"]
                    started = steps["time"].iloc[0].strftime("%Y-%m-%dT%H:%M:%SZ")
                    assert started == attempt["attemptedAt"]  # the API's time, to the second
                    code = attempt["error"]["code"] if attempt["error"] else None
                    ended = steps[steps["status"].isin(["DELIVERED", "UNDELIVERED", "FAILED"])]
                    assert (
                        (ended["error_code"].iloc[0] is pd.NA)
                        if code is None
                        else (ended["error_code"].iloc[0] == code)
                    )
