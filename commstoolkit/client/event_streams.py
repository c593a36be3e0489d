"""``client.event_streams``: Twilio Event Streams (Sinks, Subscriptions, Types).

A classic Twilio REST API at its own base URL (live ``https://events.twilio.com/v1``; a
sandbox serves it under ``/events/v1``): form-encoded requests with PascalCase parameters,
JSON answers in snake_case, lists paged by ``meta.next_page_url``, errors as
``{code, message, more_info, status}`` (read into the same ``APIError`` tree,
``client.responses``). Answers are read into the small frozen records below; the password of
a destination's user info is shown masked (``****``) by the API and so here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from commstoolkit.client._http import HttpCore
from commstoolkit.client._resource import Resource, parse_payload
from commstoolkit.errors import UnexpectedResponseError

__all__ = ["EventStreams", "EventType", "Sink", "Subscription"]

T = TypeVar("T")
PAGE_SIZE = 1000  # the largest page the API allows


@dataclass(frozen=True)
class Sink:
    """A sink: ``sid``, ``status`` (initialized, validating, active, failed), ``sink_type``,
    ``description``, ``configuration`` (as the API shows it: a password masked)."""

    sid: str
    status: str
    sink_type: str
    description: str
    configuration: Mapping[str, Any]

    @property
    def id(self) -> str:
        return self.sid

    @property
    def destination(self) -> str | None:
        """A webhook's destination URL (its password masked as the API shows it)."""
        found = self.configuration.get("destination")
        return found if isinstance(found, str) else None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Sink:
        configuration = data.get("sink_configuration") or {}
        if isinstance(configuration, str):  # some answers carry the JSON string as sent
            configuration = json.loads(configuration)
        return cls(
            sid=str(data["sid"]),
            status=str(data["status"]),
            sink_type=str(data["sink_type"]),
            description=str(data.get("description") or ""),
            configuration=dict(configuration),
        )


@dataclass(frozen=True)
class Subscription:
    """A subscription: ``sid``, ``sink_sid``, ``description``."""

    sid: str
    sink_sid: str
    description: str

    @property
    def id(self) -> str:
        return self.sid

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Subscription:
        return cls(
            sid=str(data["sid"]),
            sink_sid=str(data["sink_sid"]),
            description=str(data.get("description") or ""),
        )


@dataclass(frozen=True)
class EventType:
    """A type events may be subscribed to: ``type`` and its ``schema_id``; on a
    subscription, ``schema_version`` is the version subscribed."""

    type: str
    schema_id: str | None = None
    schema_version: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> EventType:
        version = data.get("schema_version")
        return cls(
            type=str(data["type"]),
            schema_id=data.get("schema_id"),
            schema_version=version if isinstance(version, int) else None,
        )


class EventStreams(Resource):
    """Sinks, Subscriptions and Types of the account's Event Streams."""

    def __init__(self, http: HttpCore) -> None:
        super().__init__(http)

    @property
    def base_url(self) -> str:
        """The Event Streams base URL in use."""
        return str(self._http.base_url)

    # -- sinks -----------------------------------------------------------------------------

    def create_webhook_sink(self, destination: str, *, description: str) -> Sink:
        """``POST /Sinks``: a webhook sink posting JSON batches to ``destination`` (user info
        in it makes Event Streams send HTTP Basic). Not retried (it makes a sink)."""
        configuration = json.dumps({"destination": destination, "method": "POST"})
        form = {
            "Description": description,
            "SinkType": "webhook",
            "SinkConfiguration": configuration,
        }
        return self._call("POST", "/Sinks", Sink.from_api, "sink", form=form)

    def list_sinks(self, *, status: str | None = None) -> Iterator[Sink]:
        """Every sink (``GET /Sinks``; ``status`` filters)."""
        params = {"Status": status} if status is not None else {}
        return self._pages("/Sinks", "sinks", Sink.from_api, params)

    def get_sink(self, sid: str) -> Sink:
        return self._call("GET", f"/Sinks/{sid}", Sink.from_api, "sink")

    def delete_sink(self, sid: str) -> None:
        """``DELETE /Sinks/{sid}`` (refused while a subscription uses it)."""
        self._http.request("DELETE", f"/Sinks/{sid}")

    def test_sink(self, sid: str) -> str:
        """``POST /Sinks/{sid}/Test``: Event Streams sends the sink a test event; its
        ``result``."""
        return self._call("POST", f"/Sinks/{sid}/Test", _result, "test result")

    def validate_sink(self, sid: str, test_id: str) -> str:
        """``POST /Sinks/{sid}/Validate`` with the test event's id: the sink becomes active;
        its ``result``."""
        form = {"TestId": test_id}
        return self._call("POST", f"/Sinks/{sid}/Validate", _result, "validation", form=form)

    # -- subscriptions ---------------------------------------------------------------------

    def create_subscription(
        self, sink_sid: str, types: Iterable[str], *, description: str
    ) -> Subscription:
        """``POST /Subscriptions``: ``sink_sid`` (an active sink) gets events of ``types``."""
        form = {
            "Description": description,
            "SinkSid": sink_sid,
            "Types": [json.dumps({"type": t}) for t in types],
        }
        parse = Subscription.from_api
        return self._call("POST", "/Subscriptions", parse, "subscription", form=form)

    def list_subscriptions(self, *, sink_sid: str | None = None) -> Iterator[Subscription]:
        """Every subscription (of ``sink_sid``)."""
        params = {"SinkSid": sink_sid} if sink_sid is not None else {}
        return self._pages("/Subscriptions", "subscriptions", Subscription.from_api, params)

    def get_subscription(self, sid: str) -> Subscription:
        return self._call("GET", f"/Subscriptions/{sid}", Subscription.from_api, "subscription")

    def subscribed_types(self, sid: str) -> list[str]:
        """The event types subscription ``sid`` receives."""
        path = f"/Subscriptions/{sid}/SubscribedEvents"
        return [t.type for t in self._pages(path, "types", EventType.from_api, {})]

    def delete_subscription(self, sid: str) -> None:
        self._http.request("DELETE", f"/Subscriptions/{sid}")

    # -- types -----------------------------------------------------------------------------

    def list_types(self) -> Iterator[EventType]:
        """Every event type the account may subscribe to (``GET /Types``)."""
        return self._pages("/Types", "types", EventType.from_api, {})

    # -- the classic paging ----------------------------------------------------------------

    def _pages(
        self, path: str, key: str, parse: Callable[[Any], T], params: dict[str, Any]
    ) -> Iterator[T]:
        """Each item of a classic listing, following ``meta.next_page_url`` (an absolute URL
        on the same host; anything else ends with ``UnexpectedResponseError``)."""
        url: str | None = path
        query: dict[str, Any] | None = {**params, "PageSize": PAGE_SIZE}
        seen: set[str] = set()
        while url is not None:
            data = self._http.request_json("GET", url, params=query)
            page = data.get(key) if isinstance(data, Mapping) else None
            if not isinstance(page, list):
                raise UnexpectedResponseError(
                    f"the listing has no {key!r} list", method="GET", url=f"{self.base_url}{path}"
                )
            for item in page:
                yield parse_payload(parse, item, key, "GET", f"{self.base_url}{path}")
            meta = data.get("meta") if isinstance(data.get("meta"), Mapping) else {}
            url = meta.get("next_page_url")
            query = None  # the next page's URL carries its query
            if url is not None and (url in seen or not self._http.same_origin(url)):
                raise UnexpectedResponseError(
                    f"unusable next_page_url in the {key} listing",
                    method="GET",
                    url=f"{self.base_url}{path}",
                )
            if url is not None:
                seen.add(url)


def _result(data: Any) -> str:
    return str(data["result"])
