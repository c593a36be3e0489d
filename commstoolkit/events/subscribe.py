"""``subscribe`` / ``unsubscribe``: a webhook sink and its subscription through the client.

``subscribe`` makes (or reuses) a webhook sink for a destination, has Event Streams send it a
test event, validates the sink with the id the ``EventReceiver`` received, and subscribes it
to the Communications API's event types. It never leaves a half-made sink behind: when Test,
Validate or the subscription fails, the sink it made is deleted again (``SinkTestError``
says which step failed and whether the sink is gone). ``unsubscribe`` deletes a subscription
and its sink, or a sink and its subscriptions. Both return a ``SubscriptionChange``: what
was done, shown without secrets (a destination's password is masked).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import CommsError, InvalidInputError
from .receiver import EventReceiver

if TYPE_CHECKING:
    from ..client import CommsClient
    from ..client.event_streams import Sink, Subscription

__all__ = ["COMMS_TYPES", "SinkTestError", "SubscriptionChange", "subscribe", "unsubscribe"]

PREFIX = "com.twilio.comms-api."
# The Communications API's event types (comms-api.md §7), the ones a subscription may name.
COMMS_TYPES = tuple(
    PREFIX + suffix
    for suffix in (
        "operation.scheduled", "operation.processing", "operation.completed",
        "message.queued", "message.sent", "message.delivered", "message.undelivered",
        "message.failed", "message.read", "message.inbound-received",
    )
)  # fmt: skip
# What a test send's live view and its frames use: every outbound type.
DEFAULT_TYPES = tuple(t for t in COMMS_TYPES if not t.endswith("inbound-received"))
DESCRIPTION = "commstoolkit"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class SinkTestError(CommsError):
    """``subscribe`` could not finish: ``step`` (``"Test"``, ``"test event"``,
    ``"Validate"`` or ``"subscription"``) failed; ``sink_sid``; ``removed``: whether the sink
    it had made was deleted again (False for a sink it reused, which it leaves as it was).
    The cause (an ``APIError``, a ``TimeoutError``) is ``__cause__``."""

    def __init__(self, message: str, *, step: str, sink_sid: str, removed: bool) -> None:
        super().__init__(message)
        self.step = step
        self.sink_sid = sink_sid
        self.removed = removed


@dataclass
class SubscriptionChange:
    """What ``subscribe`` or ``unsubscribe`` did: ``actions`` (one line each, in order),
    ``sink_sid``, ``subscription_sid``, ``types``, ``destination`` (its password masked),
    ``created_sink`` / ``created_subscription`` (False where one was reused)."""

    sink_sid: str | None
    subscription_sid: str | None
    destination: str | None
    types: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    created_sink: bool = False
    created_subscription: bool = False

    @property
    def id(self) -> str | None:
        """The subscription's sid."""
        return self.subscription_sid

    def __repr__(self) -> str:
        lines = [
            f"SubscriptionChange(sink={self.sink_sid}, subscription={self.subscription_sid}, "
            f"destination={self.destination!r}, types={len(self.types)})"
        ]
        lines += [f"  - {action}" for action in self.actions]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(a)}</li>" for a in self.actions)
        shown = ", ".join(t.removeprefix(PREFIX) for t in self.types) or "none"
        return (
            "<div class='ct-subscription'><b>Event Streams</b>: sink "
            f"<code>{html.escape(str(self.sink_sid))}</code>, subscription "
            f"<code>{html.escape(str(self.subscription_sid))}</code><br>"
            f"destination <code>{html.escape(str(self.destination))}</code><br>"
            f"types: {html.escape(shown)}<ol>{items}</ol></div>"
        )


def masked(destination: str) -> str:
    """``destination`` with the password of its user info as ``****`` (as the API shows it)."""
    parts = urlsplit(destination)
    if parts.password is None:
        return destination
    return destination.replace(f":{parts.password}@", ":****@", 1)


def check_types(types: str | Iterable[str] | None) -> list[str]:
    """Full type names from ``types`` (full names or suffixes such as ``message.delivered``),
    each once in the order given; ``InvalidInputError`` naming the allowed values."""
    if types is None:
        return list(DEFAULT_TYPES)
    names: list[object]
    if isinstance(types, str):
        names = [types]
    else:
        try:
            names = list(types)
        except TypeError:
            names = [types]
    found: list[str] = []
    for name in names:
        full = name if isinstance(name, str) and name.startswith(PREFIX) else None
        if isinstance(name, str) and full is None:
            full = PREFIX + name
        if full not in COMMS_TYPES:
            raise InvalidInputError(
                f"types: {name!r} is not an event type of the Communications API; allowed: "
                f"{', '.join(t.removeprefix(PREFIX) for t in COMMS_TYPES)} (or their full "
                f"names, {PREFIX}...)",
                field="types",
                allowed=COMMS_TYPES,
            )
        if full not in found:
            found.append(full)
    if not found:
        raise InvalidInputError(
            "types: give at least one event type", field="types", allowed=COMMS_TYPES
        )
    return found


def _check_destination(
    client: CommsClient, destination: str | EventReceiver, receiver: EventReceiver | None
) -> tuple[str, EventReceiver]:
    """The destination URL and the receiver that reads the test event, checked."""
    if isinstance(destination, EventReceiver):
        if receiver is not None and receiver is not destination:
            raise InvalidInputError(
                "receiver: give the receiver once (as destination, or as receiver with its "
                "destination URL)",
                field="receiver",
            )
        if "basic" in destination.checks:
            raise InvalidInputError(
                "destination: this receiver checks HTTP Basic, which the sink's destination "
                "must carry: pass destination=receiver.destination(username, password) and "
                "receiver=receiver",
                field="destination",
            )
        url, checker = destination.destination(), destination
    elif not isinstance(destination, str):
        raise InvalidInputError(
            f"destination must be an EventReceiver or an http(s) URL, got "
            f"{type(destination).__name__}",
            field="destination",
            allowed="EventReceiver or URL",
        )
    else:
        url, checker = destination, _checked_receiver(receiver)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"destination must be an http(s) URL, got {masked(url)!r}",
            field="destination",
            allowed="http(s) URL",
        )
    events_host = urlsplit(client.events_base_url).hostname or ""
    if parts.hostname in LOOPBACK and events_host not in LOOPBACK and client.live:
        raise InvalidInputError(
            f"destination {masked(url)!r} is on this machine's loopback, which Twilio "
            "cannot reach: expose the receiver through a tunnel and give its public URL "
            "(EventReceiver(public_url=...))",
            field="destination",
        )
    return url, checker


def _checked_receiver(receiver: object) -> EventReceiver:
    if not isinstance(receiver, EventReceiver):
        raise InvalidInputError(
            "receiver: give the EventReceiver the destination reaches; it reads the test "
            "event's id, which Validate needs",
            field="receiver",
            allowed="EventReceiver",
        )
    return receiver


def subscribe(
    client: CommsClient,
    destination: str | EventReceiver,
    types: str | Iterable[str] | None = None,
    *,
    receiver: EventReceiver | None = None,
    description: str = DESCRIPTION,
    timeout: float = 30.0,
) -> SubscriptionChange:
    """Subscribe a webhook ``destination`` to the Communications API's events.

    ``destination``: an ``EventReceiver`` (that checks the signature), or the URL the sink
    posts to (``receiver.destination(username, password)`` for a receiver that checks HTTP
    Basic, or a tunnel's public URL) with ``receiver`` the ``EventReceiver`` it reaches.
    ``types``: event types, full names or suffixes (``"message.delivered"``); by default
    every outbound one (``DEFAULT_TYPES``). Everything is checked before any request
    (``InvalidInputError`` naming the argument and the allowed values).

    Steps: a webhook sink with this destination is reused if the account has one (else made);
    ``Test`` has Event Streams send it a test event, which ``receiver`` must get within
    ``timeout`` seconds; ``Validate`` with its id makes the sink active; a subscription of
    the sink to exactly ``types`` is reused if there is one (else made). On an embedded
    sandbox, its delivery thread is started (``sandbox.events.keep_delivering``). A failing
    step raises ``SinkTestError`` after deleting the sink it made.
    """
    wanted = check_types(types)
    url, checker = _check_destination(client, destination, receiver)
    if not isinstance(description, str) or not description.strip():
        raise InvalidInputError("description must be non-empty text", field="description")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise InvalidInputError(
            f"timeout must be a number of seconds > 0, got {timeout!r}",
            field="timeout",
            allowed="> 0",
        )
    change = SubscriptionChange(None, None, masked(url), types=wanted)
    sandbox = getattr(client, "sandbox", None)
    if sandbox is not None and sandbox.events.keep_delivering():
        change.actions.append("started the embedded sandbox's event delivery")
    streams = client.event_streams
    sink = _find_sink(client, url)
    if sink is None:
        sink = streams.create_webhook_sink(url, description=description)
        change.created_sink = True
        change.actions.append(f"created webhook sink {sink.sid}")
    else:
        change.actions.append(f"reused webhook sink {sink.sid} ({sink.status})")
    change.sink_sid = sink.sid
    step = "Test"
    known = checker.test_ids(sink.sid)  # a reused sink's earlier tests
    try:
        streams.test_sink(sink.sid)
        step = "test event"
        test_id = checker.test_id(sink.sid, timeout=timeout, known=known)
        change.actions.append("Test: the receiver got the test event")
        step = "Validate"
        streams.validate_sink(sink.sid, test_id)
        change.actions.append("Validate: the sink is active")
        step = "subscription"
        subscription = _find_subscription(client, sink.sid, wanted)
        if subscription is None:
            subscription = streams.create_subscription(sink.sid, wanted, description=description)
            change.created_subscription = True
            change.actions.append(
                f"created subscription {subscription.sid} to {len(wanted)} event type(s)"
            )
        else:
            change.actions.append(f"reused subscription {subscription.sid} (the same types)")
    except (CommsError, TimeoutError) as exc:
        raise _failed(client, sink, step, exc, change.created_sink) from exc
    change.subscription_sid = subscription.sid
    return change


def _failed(
    client: CommsClient, sink: Sink, step: str, exc: BaseException, created: bool
) -> SinkTestError:
    """The error of a failed step, after deleting the sink ``subscribe`` made."""
    removed = False
    if created:
        try:
            client.event_streams.delete_sink(sink.sid)
            removed = True
        except CommsError:
            removed = False
    what = (
        "deleted the sink it had made"
        if removed
        else "could not delete the sink it had made: delete it with unsubscribe()"
        if created
        else "left the reused sink as it was"
    )
    return SinkTestError(
        f"subscribe: {step} failed for sink {sink.sid} ({exc}); {what}",
        step=step,
        sink_sid=sink.sid,
        removed=removed,
    )


def _find_sink(client: CommsClient, url: str) -> Sink | None:
    """A webhook sink of the account with this destination (as the API shows it)."""
    shown = masked(url)
    for sink in client.event_streams.list_sinks():
        if sink.sink_type == "webhook" and sink.destination == shown:
            return sink
    return None


def _find_subscription(client: CommsClient, sink_sid: str, types: list[str]) -> Subscription | None:
    streams = client.event_streams
    for subscription in streams.list_subscriptions(sink_sid=sink_sid):
        if set(streams.subscribed_types(subscription.sid)) == set(types):
            return subscription
    return None


def unsubscribe(
    client: CommsClient,
    subscription_or_sink: SubscriptionChange | Sink | Subscription | str,
    *,
    keep_sink: bool = False,
) -> SubscriptionChange:
    """Stop a subscription: ``subscription_or_sink`` is what ``subscribe`` returned, a
    ``Subscription`` or ``Sink``, or a sid (``DF...`` a subscription, ``DG...`` a sink).
    A subscription is deleted, then its sink unless ``keep_sink`` or another subscription
    still uses it; a sink is deleted with every subscription using it. On an embedded
    sandbox left without any subscription, its delivery thread stops. Unknown sids raise
    ``NotFoundError``; a bad argument ``InvalidInputError``, before any request."""
    subscription_sid, sink_sid = _sids(subscription_or_sink)
    if not isinstance(keep_sink, bool):
        raise InvalidInputError("keep_sink must be True or False", field="keep_sink")
    streams = client.event_streams
    if subscription_sid is not None:
        found = streams.get_subscription(subscription_sid)
        sink_sid = found.sink_sid
        doomed = [found]
    else:
        assert sink_sid is not None
        streams.get_sink(sink_sid)
        doomed = list(streams.list_subscriptions(sink_sid=sink_sid))
    destination = streams.get_sink(sink_sid).destination
    change = SubscriptionChange(sink_sid, subscription_sid, destination)
    for subscription in doomed:
        change.types += streams.subscribed_types(subscription.sid)
        streams.delete_subscription(subscription.sid)
        change.actions.append(f"deleted subscription {subscription.sid}")
    others = list(streams.list_subscriptions(sink_sid=sink_sid))
    if keep_sink:
        change.actions.append(f"kept sink {sink_sid} (keep_sink=True)")
    elif others:
        change.actions.append(f"kept sink {sink_sid}: subscription {others[0].sid} still uses it")
    else:
        streams.delete_sink(sink_sid)
        change.actions.append(f"deleted sink {sink_sid}")
    sandbox = getattr(client, "sandbox", None)
    if sandbox is not None and not any(True for _ in streams.list_subscriptions()):
        sandbox.events.stop_delivering()
        change.actions.append(
            "stopped the embedded sandbox's event delivery (no subscription left)"
        )
    return change


def _sids(value: object) -> tuple[str | None, str | None]:
    """(subscription sid, sink sid) of what ``unsubscribe`` was given."""
    if isinstance(value, SubscriptionChange):
        if value.subscription_sid is None and value.sink_sid is None:
            raise InvalidInputError(
                "subscription_or_sink: this change names no sink or subscription",
                field="subscription_or_sink",
            )
        return value.subscription_sid, value.sink_sid
    sid = getattr(value, "sid", value)
    if isinstance(sid, str) and sid.startswith("DF") and len(sid) == 34:
        return sid, None
    if isinstance(sid, str) and sid.startswith("DG") and len(sid) == 34:
        return None, sid
    raise InvalidInputError(
        f"subscription_or_sink must be what subscribe returned, a Subscription or Sink, or a "
        f"sid (DF... or DG..., 34 characters), got {_shown(value)}",
        field="subscription_or_sink",
        allowed="SubscriptionChange, Subscription, Sink, DF.../DG... sid",
    )


def _shown(value: object) -> str:
    """A bad argument as an error message may show it: text (masked, as a URL could carry a
    password) or its type."""
    return repr(masked(value)) if isinstance(value, str) else type(value).__name__
