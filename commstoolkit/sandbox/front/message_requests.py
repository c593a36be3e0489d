"""The bodies of ``POST /Messages`` and ``POST /Senders/Resolve``, read into plain values by the
front's own checks, then checked whole against the official schemas (``schema.check``). Every
failure is a 400 naming its JSON path; an invalid phone number (E.164, a rule beyond the
schema) is error 21614, all of them listed at once, up to 20.

``from`` may name one sender by address and channel, one sender by id, or a pool (with
``channels.filterIn`` / ``channels.priority``); naming two of these is a 400, as the spec's
``oneOf`` makes it. Fields the spec leaves open (``additionalProperties`` not false, such as the
preview's ``sessionId``) are accepted and ignored.
"""

from __future__ import annotations

from ..exceptions import invalid
from ..simulation.delivery import E164, INVALID_NUMBER, MAGIC, MESSAGING_CHANNELS
from ..simulation.sends import Recipient, ResolveRequest, SenderChoice, SendRequest
from ..state import ids
from . import schema
from . import validation as check
from .content import check_content

MAX_RECIPIENTS = 10_000
MAX_RESOLVE = 100
MAX_CONNECTED = 10
ADDRESS_CHANNELS = ("PHONE", "WHATSAPP")
ADDRESS_FIELDS = ("address", "channel")
RESOLVE_CHANNELS = ("EMAIL", "PHONE", "WHATSAPP", "PUSH")
BAD_NUMBER = "The address specified in the request is not a valid phone number."
CREDENTIAL = "comms_credential_"


def _array(value: object, context: str, low: int, high: int, what: str) -> list:
    if not isinstance(value, list):
        raise invalid(f"{context} must be an array of {what}", context)
    if not low <= len(value) <= high:
        raise invalid(f"{context} must hold {low} to {high} {what} (got {len(value)})", context)
    return value


def _phone_ok(address: str) -> bool:
    return E164.match(address) is not None and MAGIC.get(address) != "invalid"


def _address(
    item: object,
    where: str,
    channels: tuple[str, ...],
    errors: check.Collector,
    allowed: tuple[str, ...] | None,
) -> tuple[str, str] | None:
    """``{address, channel}`` -> the pair, or None with its problems recorded; ``allowed``
    lists the only fields it may have (None: any)."""
    if not isinstance(item, dict):
        errors.add(f'{where} must be an object like {{"address": ..., "channel": ...}}', where)
        return None
    extra = [k for k in item if k not in allowed] if allowed is not None else []
    address, channel = item.get("address"), item.get("channel")
    if extra:
        errors.add(f"{where} has an unknown field {extra[0]!r}", f"{where}.{extra[0]}")
    elif not isinstance(address, str):
        errors.add(f"{where}.address is required and must be a string", f"{where}.address")
    elif channel not in channels:
        errors.add(
            f"{where}.channel must be one of {', '.join(channels)} (got {channel!r})",
            f"{where}.channel",
        )
    elif channel in ADDRESS_CHANNELS and not _phone_ok(address):
        errors.add(BAD_NUMBER, f"{where}.address", INVALID_NUMBER)
    else:
        return address, channel
    return None


def _variables(item: dict, where: str, errors: check.Collector) -> dict[str, str] | None:
    variables = item.get("variables")
    if variables is None:
        return None
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        errors.add(f"{where}.variables must map names to strings", f"{where}.variables")
        return None
    return variables


def _recipient(item: object, where: str, errors: check.Collector) -> Recipient | None:
    if isinstance(item, dict) and "addresses" in item:
        if "profileId" in item and "memoryStoreId" in item:
            errors.add(f"{where} is both a connected-address and a profile recipient", where)
            return None
        listed = item["addresses"]
        if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_CONNECTED:
            errors.add(f"{where}.addresses must hold 1 to {MAX_CONNECTED} addresses", where)
            return None
        found = [
            _address(a, f"{where}.addresses[{j}]", ADDRESS_CHANNELS, errors, ADDRESS_FIELDS)
            for j, a in enumerate(listed)
        ]
        pairs = tuple(pair for pair in found if pair)
        variables = _variables(item, where, errors)
        return Recipient(pairs, variables) if len(pairs) == len(found) else None
    if isinstance(item, dict) and ("profileId" in item or "memoryStoreId" in item):
        for key, prefix in (("profileId", ids.PROFILE), ("memoryStoreId", ids.MEMORY_STORE)):
            if not ids.is_valid(item.get(key), prefix):
                errors.add(f"{where}.{key} is required and must be a {key}", f"{where}.{key}")
                return None
        profile = {"profileId": item["profileId"], "memoryStoreId": item["memoryStoreId"]}
        return Recipient((("", "PHONE"),), _variables(item, where, errors), profile)
    pair = _address(item, where, ADDRESS_CHANNELS, errors, (*ADDRESS_FIELDS, "variables"))
    if pair is None:
        return None
    variables = _variables(item, where, errors)  # type: ignore[arg-type]
    return Recipient((pair,), variables)


def _channel_control(value: object, where: str, channels: tuple[str, ...]) -> SenderChoice:
    """``channels``: ``{filterIn?: [...] unique, priority?: [{channel, priority}]}``."""
    if value is None:
        return SenderChoice()
    if not isinstance(value, dict):
        raise invalid(f"{where} must be an object", where)
    filter_in = value.get("filterIn")
    if filter_in is not None:
        filter_in = _array(filter_in, f"{where}.filterIn", 0, len(channels), "channels")
        for i, channel in enumerate(filter_in):
            check.choice(channel, channels, f"{where}.filterIn[{i}]")
        if len(set(filter_in)) != len(filter_in):
            raise invalid(f"{where}.filterIn must not repeat a channel", f"{where}.filterIn")
    priority: dict[str, int] | None = None
    if value.get("priority") is not None:
        items = _array(value["priority"], f"{where}.priority", 0, 100, "priorities")
        priority = {}
        for i, item in enumerate(items):
            at = f"{where}.priority[{i}]"
            if not isinstance(item, dict):
                raise invalid(
                    f'{at} must be an object like {{"channel": "SMS", "priority": 1}}', at
                )
            channel = check.choice(item.get("channel"), channels, f"{at}.channel")
            rank = item.get("priority")
            if not isinstance(rank, int) or isinstance(rank, bool):
                raise invalid(f"{at}.priority must be an integer", f"{at}.priority")
            priority.setdefault(channel, rank)
    return SenderChoice(filter_in=tuple(filter_in) if filter_in is not None else None,
                        priority=priority)  # fmt: skip


def _sender_choice(value: object) -> SenderChoice:
    if not isinstance(value, dict):
        raise invalid("$.from must be an object", "$.from")
    kinds = [k for k in ("address", "senderId", "senderPoolId") if k in value]
    if len(kinds) != 1:
        raise invalid(
            "$.from must name exactly one of: address with channel, senderId, senderPoolId",
            "$.from",
        )
    if kinds == ["senderId"]:
        return SenderChoice(
            "sender", check.identifier(value["senderId"], ids.SENDER, "$.from.senderId")
        )
    if kinds == ["senderPoolId"]:
        pool = check.identifier(value["senderPoolId"], ids.POOL, "$.from.senderPoolId")
        control = _channel_control(value.get("channels"), "$.from.channels", MESSAGING_CHANNELS)
        return SenderChoice("pool", pool, None, control.filter_in, control.priority)
    address = check.string(value["address"], "$.from.address")
    channel = check.choice(value.get("channel"), MESSAGING_CHANNELS, "$.from.channel")
    return SenderChoice("address", address, channel)


def _send_at(value: object) -> float | None:
    if not isinstance(value, dict) or not value:
        raise invalid(
            '$.schedule must be an object like {"sendAt": ["2025-06-03T09:00:00Z"]}', "$.schedule"
        )
    extra = [k for k in value if k != "sendAt"]
    if extra:
        raise invalid(f"$.schedule has an unknown field {extra[0]!r}", f"$.schedule.{extra[0]}")
    times = value["sendAt"]
    if not isinstance(times, list) or not all(isinstance(t, str) for t in times):
        raise invalid("$.schedule.sendAt must be an array of date-times", "$.schedule.sendAt")
    return check.date(times[0], "$.schedule.sendAt[0]") if times else None


def parse_send(body: bytes) -> SendRequest:
    """A ``POST /Messages`` body -> ``SendRequest``; 400 naming what is wrong."""
    data = check.json_object(body)
    for required in ("to", "content"):
        if required not in data:
            raise invalid(f"$.{required} is required", f"$.{required}")
    to = _array(data["to"], "$.to", 1, MAX_RECIPIENTS, "recipients")
    errors = check.Collector()
    recipients = [_recipient(item, f"$.to[{i}]", errors) for i, item in enumerate(to)]
    errors.check()
    content = check_content(data["content"])
    sender = _sender_choice(data["from"]) if "from" in data else SenderChoice()
    tags = check.tags(data.get("tags", {}), "$.tags")
    send_at = _send_at(data["schedule"]) if "schedule" in data else None
    schema.check("POST /Messages", data)
    return SendRequest([r for r in recipients if r], content, sender, tags, send_at)


def _sender_addresses(value: object) -> SenderChoice:
    where = "$.senderAddresses"
    if not isinstance(value, dict):
        raise invalid(f"{where} must be an object", where)
    if "channel" in value:
        address = check.string(value.get("address"), f"{where}.address")
        return SenderChoice(
            "address",
            address,
            check.choice(value["channel"], MESSAGING_CHANNELS, f"{where}.channel"),
        )
    if "name" in value or "address" in value:
        address = check.string(value.get("address"), f"{where}.address")
        check.string(value.get("name"), f"{where}.name")
        return SenderChoice("address", address, "EMAIL")
    for key, credential in value.items():
        if key not in ("fcm", "apn"):
            raise invalid(f"{where} has an unknown field {key!r}", f"{where}.{key}")
        if not (isinstance(credential, str) and credential.startswith(CREDENTIAL)):
            raise invalid(f"{where}.{key} must be a credential id", f"{where}.{key}")
    return SenderChoice("credentials")  # push credentials are not emulated: no sender matches


def parse_resolve(body: bytes) -> ResolveRequest:
    """A ``POST /Senders/Resolve`` body -> ``ResolveRequest``; 400 naming what is wrong."""
    data = check.json_object(body)
    if "recipientAddresses" not in data:
        raise invalid("$.recipientAddresses is required", "$.recipientAddresses")
    listed = _array(
        data["recipientAddresses"], "$.recipientAddresses", 1, MAX_RESOLVE, "recipients"
    )
    errors = check.Collector()
    found = [
        _address(item, f"$.recipientAddresses[{i}]", RESOLVE_CHANNELS, errors, None)
        for i, item in enumerate(listed)
    ]
    errors.check()
    control = _channel_control(data.get("channels"), "$.channels", check.SENDER_CHANNELS)
    sender = SenderChoice()
    if "senderAddresses" in data:
        sender = _sender_addresses(data["senderAddresses"])
    pool = data.get("senderPoolId")
    if pool is not None:
        pool = check.identifier(pool, ids.POOL, "$.senderPoolId")
    choice = SenderChoice(
        sender.kind, sender.value, sender.channel, control.filter_in, control.priority
    )
    schema.check("POST /Senders/Resolve", data)
    return ResolveRequest([pair for pair in found if pair], choice, pool)
