"""ULID-like identifiers: prefix + 10 chars of millisecond time + 16 random chars.

Lowercase Crockford base32, so every id matches the spec pattern
``<prefix>[0-7][a-hjkmnpqrstv-z0-9]{25}`` and sorts in creation order. The "random" part comes
from the caller (a seeded ``random.Random`` while seeding, a hash of seed and counter later), so
the same seed always gives the same ids.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
TIME_CHARS = 10
RANDOM_CHARS = 16
RANDOM_BITS = 5 * RANDOM_CHARS

SENDER = "comms_sender_"
POOL = "comms_senderpool_"
OPERATION = "comms_operation_"
MESSAGE = "comms_message_"
PROFILE = "mem_profile_"
MEMORY_STORE = "mem_store_"
SESSION = "comms_session_"

_BODY = "[0-7][a-hjkmnpqrstv-z0-9]{25,34}"
PATTERNS = {
    prefix: re.compile(re.escape(prefix) + _BODY + r"\Z")
    for prefix in (SENDER, POOL, OPERATION, MESSAGE, PROFILE, MEMORY_STORE)
}
# Session ids have no leading [0-7] (comms-api.md §1).
PATTERNS[SESSION] = re.compile(re.escape(SESSION) + r"[a-hjkmnpqrstv-z0-9]{26,34}\Z")


_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def _encode(value: int, length: int) -> str:
    """``value`` as ``length`` base32 digits (length <= 32), via the C base32 codec."""
    return base64.b32encode(value.to_bytes(20, "big")).decode()[-length:].translate(_FROM_RFC4648)


def make_id(prefix: str, ms: int, random_part: int) -> str:
    """An id for time ``ms`` (epoch milliseconds) with an 80-bit random part."""
    return prefix + _encode((ms << RANDOM_BITS) | random_part, TIME_CHARS + RANDOM_CHARS)


def make_ids(prefix: str, ms: int, random_parts: Sequence[int]) -> list[str]:
    """``[make_id(prefix, ms, r) for r in random_parts]``, encoded at once: the 80-bit random
    part is exactly 10 bytes and 16 base32 digits, so one base32 call encodes them all and
    the time part (the same for each) is encoded once (a 10,000-recipient send)."""
    head = prefix + _encode(ms, TIME_CHARS)
    size = RANDOM_BITS // 8
    packed = b"".join(r.to_bytes(size, "big") for r in random_parts)
    digits = base64.b32encode(packed).decode().translate(_FROM_RFC4648)
    return [head + digits[i : i + RANDOM_CHARS] for i in range(0, len(digits), RANDOM_CHARS)]


def time_floor(prefix: str, ms: int) -> str:
    """The smallest id of ``prefix`` whose time part is ``ms`` (a keyset bound for date filters)."""
    return prefix + _encode(max(ms, 0), TIME_CHARS)


def hashed_random(seed: int, counter: int) -> int:
    """A deterministic 80-bit "random" part for the ``counter``-th id made after seeding."""
    digest = hashlib.blake2b(f"{seed}:{counter}".encode(), digest_size=10).digest()
    return int.from_bytes(digest, "big")


def is_valid(identifier: object, prefix: str) -> bool:
    """True when ``identifier`` is a string matching the spec pattern of ``prefix`` entirely."""
    return isinstance(identifier, str) and PATTERNS[prefix].match(identifier) is not None


_TO_INT_DIGITS = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")


def ms_of(identifier: str, prefix: str) -> int:
    """The creation time (epoch milliseconds) an id made by ``make_id`` carries."""
    digits = identifier[len(prefix) : len(prefix) + TIME_CHARS].translate(_TO_INT_DIGITS)
    return int(digits, 32)
