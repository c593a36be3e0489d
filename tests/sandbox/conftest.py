"""Sandbox test fixtures: a fresh in-memory sandbox, an httpx client on it that checks every
answer against the official contract, and helpers to page through listings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from commstoolkit.sandbox import Sandbox

VERSION_PREFIX = re.compile(r"/(v1|preview)(/.*)")
# A path the spec's own example points at but never defines (comms-api.md §4); same schema.
EXTRA_PATHS = {
    "GET /SenderPools/{senderPoolId}/Senders/Operations/{operationId}": (
        "GET /SenderPools/Operations/{operationId}"
    ),
}


class Contract:
    """The official schemas (schemas.json) as checks on sandbox requests and answers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.doc = json.loads((folder / "schemas.json").read_text(encoding="utf-8"))
        self.operations: dict[str, dict] = dict(self.doc["operations"])
        for extra, same_as in EXTRA_PATHS.items():
            self.operations[extra] = self.operations[same_as]
        self.checked = 0
        self._validators: dict[str, Draft202012Validator] = {}
        self._templates = [
            (key.split(" ", 1)[0], key.split(" ", 1)[1], _template_regex(key.split(" ", 1)[1]))
            for key in self.operations
        ]

    def validator(self, ref: str) -> Draft202012Validator:
        if ref not in self._validators:
            schema = {"$defs": self.doc["$defs"], "$ref": ref}
            self._validators[ref] = Draft202012Validator(schema, format_checker=FormatChecker())
        return self._validators[ref]

    def spec_path(self, method: str, path: str) -> str | None:
        """The spec template of a concrete path (literal paths win over parameters)."""
        found = [t for m, t, rx in self._templates if m == method and rx.fullmatch(path)]
        return min(found, key=lambda t: t.count("{")) if found else None

    def validate_response(
        self, method: str, spec_path: str, status: int, body: Any, headers: Any = None
    ) -> None:
        """Assert an answer matches the spec: documented status, schema, 202/429/503 headers.

        Error statuses the spec leaves out (401, 405, 413, ...) must still be ``TwilioErrors``.
        """
        operation = self.operations[f"{method} {spec_path}"]
        ref = operation["responses"].get(str(status), {}).get("$ref")
        if ref is None:
            assert status >= 400, f"{method} {spec_path} answered undocumented {status}"
            ref = "#/$defs/TwilioErrors"
        errors = sorted(self.validator(ref).iter_errors(body), key=lambda e: e.path)
        assert not errors, f"{method} {spec_path} {status}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
        )
        if headers is not None:
            if status == 202:
                location = body.get("operationLocation") or body.get("resourceLocation")
                assert headers.get("location") == location
            if status in (429, 503):
                assert headers.get("retry-after", "").isdigit()
        self.checked += 1

    def validate_request(self, method: str, spec_path: str, body: Any) -> None:
        """Assert a request body matches the spec's request schema."""
        ref = self.operations[f"{method} {spec_path}"]["requestBody"]["$ref"]
        errors = list(self.validator(ref).iter_errors(body))
        assert not errors, [e.message for e in errors]

    def check(self, response: httpx.Response) -> None:
        """httpx response hook: validate every answer to an API path (not ``/_sandbox``)."""
        response.read()
        versioned = VERSION_PREFIX.fullmatch(response.request.url.path)
        if versioned is None or versioned.group(2).startswith("/_sandbox"):
            return
        method = response.request.method
        spec_path = self.spec_path(method, versioned.group(2))
        if spec_path is None:
            assert response.status_code in (404, 405), f"{method} {versioned.group(2)}"
            errors = list(self.validator("#/$defs/TwilioErrors").iter_errors(response.json()))
            assert not errors
            self.checked += 1
            return
        self.validate_response(
            method, spec_path, response.status_code, response.json(), response.headers
        )

    def examples(self, pattern: str) -> list[dict]:
        """The spec example files matching a glob, e.g. ``POST_SenderPools__request__*``."""
        files = sorted((self.folder / "examples").glob(pattern + ".json"))
        return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)))


@pytest.fixture(scope="session")
def contract(contract_dir: Path) -> Contract:
    """The contract checks, over the repo's copy of the official extract."""
    return Contract(contract_dir)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A freshly seeded in-memory sandbox (seed 7, 300 senders) with its clock frozen."""
    with Sandbox(":memory:", speed=0) as box:
        yield box


def make_client(box: Sandbox, contract: Contract | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx client on the sandbox's in-process transport (answers checked if contract)."""
    hooks = {"response": [contract.check]} if contract else {}
    return httpx.Client(
        transport=box.transport(),
        base_url=kwargs.pop("base_url", box.base_url),
        auth=kwargs.pop("auth", box.credentials()),
        event_hooks=hooks,
        **kwargs,
    )


@pytest.fixture
def api(sandbox: Sandbox, contract: Contract) -> Iterator[httpx.Client]:
    """A client whose every answer is validated against the official schemas."""
    with make_client(sandbox, contract) as client:
        yield client


@pytest.fixture
def raw_api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client that checks nothing (for deliberately malformed answers)."""
    with make_client(sandbox) as client:
        yield client


def collect(
    client: httpx.Client, path: str, key: str = "senders", **params: Any
) -> tuple[list[dict], int]:
    """Every item of a listing, following ``pagination.next``; (items, pages)."""
    items, pages, token = [], 0, None
    while True:
        query = {**params, **({"pageToken": token} if token else {})}
        answer = client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        items.extend(answer.json()[key])
        pages += 1
        token = answer.json()["pagination"]["next"]
        if token is None:
            return items, pages


def error_of(answer: httpx.Response) -> dict:
    """The first ``errors[]`` item of an error answer."""
    return answer.json()["errors"][0]
