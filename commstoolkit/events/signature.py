"""Checking ``X-Twilio-Signature`` on a JSON webhook, by Twilio's documented scheme.

Twilio adds ``bodySHA256`` (the hex SHA-256 of the body) to the URL it requests and signs that
full URL: base64 of HMAC-SHA1 keyed with the auth token. Only the standard library (hmac,
hashlib): the scheme is three lines, and the sandbox signs with its own implementation, so the
two check each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

BODY_PARAMETER = "bodySHA256"


def valid(auth_token: str, url: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` signs ``url`` (as requested, with its ``bodySHA256``) with
    ``auth_token`` and the URL's ``bodySHA256`` is ``body``'s; constant-time comparisons."""
    if not signature:
        return False
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    digest = query.get(BODY_PARAMETER)
    if digest is None or not hmac.compare_digest(digest, hashlib.sha256(body).hexdigest()):
        return False
    mac = hmac.new(auth_token.encode(), url.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), signature)
