"""The event types the sandbox's Event Streams know: the Communications API's (comms-api.md §7).

Each type has its schema (``CommsApi.<Name>``) and the schema version events carry; ``GET
/Types`` lists them, subscriptions may name only them. The message types' versions come from a
third-party client (comms-api.md §7 marks them UNCONFIRMED); the operation ones are documented.
``TEST_TYPE`` is the event ``POST /Sinks/{Sid}/Test`` sends (not a subscribable type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..simulation.clock import EPOCH, rfc3339

PREFIX = "com.twilio.comms-api."
SCHEMA_URL = "https://events-schemas.twilio.com/{schema_id}/{version}"
TEST_TYPE = "com.twilio.eventstreams.test-event"
DOCS_URL = "https://www.twilio.com/docs/comms/events"


@dataclass(frozen=True)
class EventType:
    """One subscribable type: ``type``, its ``schema_id`` and the ``version`` events carry."""

    type: str
    schema_id: str
    version: int

    @property
    def dataschema(self) -> str:
        """The CloudEvents ``dataschema`` of its events."""
        return SCHEMA_URL.format(schema_id=self.schema_id, version=self.version)


def _type(suffix: str, name: str, version: int) -> EventType:
    return EventType(PREFIX + suffix, f"CommsApi.{name}", version)


TYPES: tuple[EventType, ...] = (
    _type("operation.scheduled", "OperationScheduled", 2),
    _type("operation.processing", "OperationProcessing", 2),
    _type("operation.completed", "OperationCompleted", 2),
    _type("message.queued", "MessageQueued", 3),
    _type("message.sent", "MessageSent", 4),
    _type("message.delivered", "MessageDelivered", 4),
    _type("message.undelivered", "MessageUndelivered", 4),
    _type("message.failed", "MessageFailed", 4),
    _type("message.read", "MessageRead", 4),
    # The sandbox receives no inbound messages: a subscription may name it, it never fires.
    _type("message.inbound-received", "MessageInbound", 2),
)
BY_TYPE = {t.type: t for t in TYPES}
# The type of a message event for each status the API shows (message_wire's statuses).
MESSAGE_TYPE = {
    status: PREFIX + "message." + status.lower()
    for status in ("QUEUED", "SENT", "DELIVERED", "UNDELIVERED", "FAILED", "READ")
}


def type_to_wire(type_: str, base: str) -> dict[str, Any]:
    """The EventType JSON of a known type (``base``: the Event Streams base URL)."""
    known = BY_TYPE[type_]
    published = rfc3339(EPOCH.timestamp())
    return {
        "date_created": published,
        "date_updated": published,
        "type": type_,
        "schema_id": known.schema_id,
        "status": "available",
        "documentation_url": DOCS_URL,
        "url": f"{base}/Types/{type_}",
        "links": {"schema": f"{base}/Schemas/{known.schema_id}/Versions"},
    }
