"""The official schemas of the Communications API the sandbox validates against (package data).

``schemas.json`` is a byte-for-byte copy of the repo's ``contract/comms/schemas.json`` (one JSON
Schema 2020-12 document: ``$defs`` and, per operation, its request body, path, query and
responses), made by ``scripts/refresh-contract comms``; ``NOTICE`` says where it comes from and
its licence (Apache-2.0, Copyright Twilio Inc.). A spec revision is a refresh of this data.

``events_openapi.json`` is likewise the repo's ``contract/events/openapi.json`` (Twilio Event
Streams v1: Sinks, Subscriptions, Types; OpenAPI 3.0), made by ``scripts/refresh-contract
events``; the sandbox's Event Streams check requests against it.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

SCHEMAS = "schemas.json"
EVENTS_OPENAPI = "events_openapi.json"


@functools.cache
def schemas() -> dict[str, Any]:
    """The whole document (parsed once)."""
    document: dict[str, Any] = json.loads(
        resources.files(__name__).joinpath(SCHEMAS).read_text(encoding="utf-8")
    )
    return document


def request_body(operation: str) -> dict[str, Any] | None:
    """The request body schema of ``"METHOD /Template"`` (a ``$ref`` into ``$defs``), or None."""
    body: dict[str, Any] | None = schemas()["operations"][operation]["requestBody"]
    return body


@functools.cache
def events_openapi() -> dict[str, Any]:
    """The Event Streams OpenAPI document (parsed once)."""
    document: dict[str, Any] = json.loads(
        resources.files(__name__).joinpath(EVENTS_OPENAPI).read_text(encoding="utf-8")
    )
    return document
