"""``X-Twilio-Signature`` for a JSON body, per Twilio's documented webhook-security scheme.

The request goes to the destination URL with a ``bodySHA256`` query parameter added (the hex
SHA-256 of the body); the signature is the base64 HMAC-SHA1, keyed with the account's auth
token, of that full URL (no user info: it travels as HTTP Basic, not in the request line).
Whether Event Streams signs this way is UNCONFIRMED (events-contract README); the scheme is the
one Twilio's helper libraries validate (their own test vector is in the tests). Only the
standard library: hmac, hashlib, base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

BODY_PARAMETER = "bodySHA256"
HEADER = "X-Twilio-Signature"


def body_sha256(body: bytes) -> str:
    """The hex SHA-256 of a request body."""
    return hashlib.sha256(body).hexdigest()


def compute(auth_token: str, url: str) -> str:
    """The base64 HMAC-SHA1 of ``url`` keyed with ``auth_token`` (no POST parameters: JSON)."""
    mac = hmac.new(auth_token.encode(), url.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def without_user_info(url: str) -> tuple[str, tuple[str, str] | None]:
    """(``url`` without ``user:password@``, the (user, password) it held or None)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    stripped = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return stripped, (unquote(parts.username or ""), unquote(parts.password or ""))


def signed_url(url: str, body: bytes) -> str:
    """``url`` (without user info) with ``bodySHA256`` of ``body`` added to its query."""
    parts = urlsplit(url)
    # Appended as is, so the destination's own query keeps its exact spelling (what the
    # receiver sees in the request line is what was signed).
    added = f"{BODY_PARAMETER}={body_sha256(body)}"
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def sign(auth_token: str, destination: str, body: bytes) -> tuple[str, str]:
    """(the URL to POST ``body`` to, its ``X-Twilio-Signature``) for a sink's destination."""
    url = signed_url(without_user_info(destination)[0], body)
    return url, compute(auth_token, url)


def verify(auth_token: str, url: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` signs ``url`` (as requested, with its ``bodySHA256``) and whether
    that parameter is ``body``'s hash; constant-time comparisons."""
    given = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)).get(BODY_PARAMETER)
    if given is None or not hmac.compare_digest(given, body_sha256(body)):
        return False
    return hmac.compare_digest(compute(auth_token, url), signature)
