"""The HTTP layer: credentials, base URL, one request with retries, errors.

One job per function: ``check_base_url`` and ``Credentials`` validate configuration,
``HttpCore.request`` runs the retry loop over ``_send_once``, ``_transport_error`` and
``error_from_response`` map failures to the exception tree. Nothing here knows a resource.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import ipaddress
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from commstoolkit.client.concurrency import MAX_REFUSALS, Throttle, current_throttle
from commstoolkit.client.responses import body_snippet, error_from_response, safe_url
from commstoolkit.client.retry import RetryPolicy, decide, request_sent
from commstoolkit.errors import (
    CommsError,
    ConfigurationError,
    TransportConnectionError,
    TransportError,
    TransportTimeoutError,
    UnexpectedResponseError,
)

logger = logging.getLogger("commstoolkit.client")

USER_AGENT = "commstoolkit/0.1"
# The header every answer of a commstoolkit sandbox carries (its value is "1", nothing secret).
SANDBOX_HEADER = "X-Commstoolkit-Sandbox"


def check_base_url(base_url: str) -> httpx.URL:
    """The parsed base URL, if it is https, or http to a loopback host; else ConfigurationError.

    The message never repeats a URL that carries credentials.
    """
    try:
        url = httpx.URL(base_url.rstrip("/"))
    except (httpx.InvalidURL, TypeError, AttributeError):
        raise ConfigurationError("base_url is not a valid URL") from None
    if url.userinfo:
        raise ConfigurationError("base_url must not contain credentials (user:password@)")
    if url.scheme not in ("https", "http") or not url.host:
        raise ConfigurationError(f"base_url must be an https:// URL, got {str(url)!r}")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ConfigurationError(
            f"base_url {str(url)!r} uses plain http to a non-loopback host; credentials would "
            "travel unencrypted. Use https://, or http:// only to localhost / 127.0.0.1 / ::1"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Credentials:
    """A Basic-auth identity (account SID + auth token, or API key + secret).

    The secret lives only in the ``httpx.BasicAuth`` it builds and in the private list
    ``redact`` uses to scrub it (raw or base64-encoded) from text; ``repr`` shows the
    username alone.
    """

    __slots__ = ("_auth", "_hidden", "username")

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> None:
        if api_key is not None or api_secret is not None:
            username, secret = _pair(api_key, api_secret, "api_key", "api_secret")
        elif account_sid is not None or auth_token is not None:
            username, secret = _pair(account_sid, auth_token, "account_sid", "auth_token")
        else:
            raise ConfigurationError(
                "no credentials: pass account_sid and auth_token, or api_key and api_secret"
            )
        self.username = username
        self._auth = httpx.BasicAuth(username, secret)
        encoded = base64.b64encode(f"{username}:{secret}".encode()).decode()
        self._hidden = (secret, encoded)

    @property
    def auth(self) -> httpx.Auth:
        """The httpx auth object that adds the Authorization header."""
        return self._auth

    def redact(self, text: str) -> str:
        """``text`` with the secret (raw or base64-encoded) replaced by ``***``."""
        for hidden in self._hidden:
            text = text.replace(hidden, "***")
        return text

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r})"


def _pair(
    user: str | None, secret: str | None, user_name: str, secret_name: str
) -> tuple[str, str]:

    def checked(value: str | None, name: str) -> str:
        if value is None or not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{name} is missing: pass both {user_name} and {secret_name}")
        if any(ch.isspace() or not ch.isprintable() for ch in value.strip()) or (
            name == user_name and ":" in value
        ):
            raise ConfigurationError(f"{name} contains characters that cannot be sent")
        return value.strip()

    return checked(user, user_name), checked(secret, secret_name)


class HttpCore:
    """Sends API requests: auth, retries, error mapping, JSON decoding.

    ``sleep`` and ``rng`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        *,
        base_url: httpx.URL,
        credentials: Credentials,
        transport: httpx.BaseTransport | None,
        timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url
        self.retry = retry
        # Whether the last answer came from a commstoolkit sandbox (None: no answer yet).
        self.server_is_sandbox: bool | None = None
        # The server's clock by its last answer's Date header, and time.monotonic() then.
        self.server_date: tuple[datetime, float] | None = None
        self._round_trips: deque[float] = deque(maxlen=8)
        self._credentials = credentials
        self.username = credentials.username
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            base_url=base_url,
            auth=credentials.auth,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` has the base URL's scheme, host and port (credentials go there)."""
        other = httpx.URL(url)
        base = self.base_url
        return (other.scheme, other.host, other.port) == (base.scheme, base.host, base.port)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send with retries and return the decoded JSON body of the 2xx answer."""
        response = self.request(
            method, path, params=params, json_body=json_body, form=form, idempotent=idempotent
        )
        try:
            return json.loads(response.content)
        except ValueError:
            raise UnexpectedResponseError(
                f"the {response.status_code} answer is not JSON: {body_snippet(response)}",
                method=method,
                url=safe_url(response.request.url),
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send ``method path`` (relative to the base URL, or an absolute same-origin URL).

        Retries as ``RetryPolicy`` allows; returns the 2xx response, raises ``APIError`` for
        an error status and ``TransportError`` when no answer came. ``idempotent`` marks a
        POST that only reads (search, resolve) as safe to repeat. ``form`` sends a
        form-encoded body instead of JSON (classic Twilio APIs: Event Streams); a list value
        repeats its key.
        """
        attempt = 0
        # 429s met under a concurrency throttle (client.concurrency): adapting to a rate
        # limit, counted apart from the retries the policy allows.
        refusals = 0
        throttle = current_throttle()
        while True:
            attempt += 1
            request = self._client.build_request(
                method, path, params=params, json=json_body, data=form
            )
            outcome, crowded = self._send_throttled(request, throttle)
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                logger.debug("%s %s -> %s", method, safe_url(request.url), outcome.status_code)
                return outcome
            if crowded and refusals < MAX_REFUSALS:
                refusals += 1
            decision = decide(
                request,
                outcome,
                max(1, attempt - refusals),
                self.retry,
                self._rng,
                idempotent=idempotent,
            )
            logger.debug(
                "%s %s -> %s",
                decision.method,
                decision.url,
                self._credentials.redact(decision.reason),
            )
            if not decision.retry:
                raise self._failure(request, outcome, attempt)
            if self.retry.on_retry is not None:
                self.retry.on_retry(decision)
            self._sleep(decision.delay)

    def probe(
        self, path: str, *, params: dict[str, Any] | None = None, timeout: float
    ) -> httpx.Response | None:
        """One GET, no retries, no error raised: its answer (recorded like any other), or None
        when no answer came."""
        request = self._client.build_request("GET", path, params=params, timeout=timeout)
        outcome = self._send_once(request)
        return outcome if isinstance(outcome, httpx.Response) else None

    def _send_throttled(
        self, request: httpx.Request, throttle: Throttle | None
    ) -> tuple[httpx.Response | httpx.RequestError, bool]:
        """One attempt, holding a slot of ``throttle`` (if any) while it is in flight; and
        whether it was a 429 met among other requests in flight (``Throttle.slot``)."""
        if throttle is None:
            return self._send_once(request), False
        with throttle.slot() as report:
            outcome = self._send_once(request)
            status = outcome.status_code if isinstance(outcome, httpx.Response) else None
            crowded = report(status)
        return outcome, crowded

    def _send_once(self, request: httpx.Request) -> httpx.Response | httpx.RequestError:
        try:
            response = self._client.send(request)
        except httpx.RequestError as exc:
            return exc
        self.server_is_sandbox = SANDBOX_HEADER in response.headers
        self._note_date(response.headers.get("Date"))
        with contextlib.suppress(RuntimeError):  # elapsed: once the body was read
            self._round_trips.append(response.elapsed.total_seconds())
        return response

    def round_trip(self) -> float | None:
        """The shortest time the last few requests took, send to answer read (seconds);
        None before any answer."""
        return min(self._round_trips) if self._round_trips else None

    def _note_date(self, header: str | None) -> None:
        """Keep the server's time from a ``Date`` header (RFC 9110 IMF-fixdate; one that does
        not read is ignored)."""
        if not header:
            return
        try:
            moment = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if moment.tzinfo is None:  # "-0000": UTC, says RFC 5322
            moment = moment.replace(tzinfo=timezone.utc)
        self.server_date = (moment.astimezone(timezone.utc), time.monotonic())

    def server_now(self) -> datetime | None:
        """The server's time now, from its last ``Date`` header and the time since (whole
        seconds); None before any answer with one."""
        if self.server_date is None:
            return None
        moment, then = self.server_date
        return moment + timedelta(seconds=time.monotonic() - then)

    def _failure(
        self, request: httpx.Request, outcome: httpx.Response | Exception, attempts: int
    ) -> CommsError:
        if isinstance(outcome, httpx.Response):
            return error_from_response(outcome)
        return self._transport_error(request, outcome, attempts)

    def _transport_error(
        self, request: httpx.Request, error: Exception, attempts: int
    ) -> TransportError:
        sent = request_sent(error)
        timed_out = isinstance(error, httpx.TimeoutException)
        cls = TransportTimeoutError if timed_out else TransportConnectionError
        detail = self._credentials.redact(str(error) or type(error).__name__)
        text = f"{request.method} {request.url.path}: {type(error).__name__}: {detail}"
        if sent:
            text += (
                " — the request was sent but no answer came back; the server may have "
                "applied it. Check its effect before sending it again"
            )
        elif sent is False:
            text += f" — the request was not sent (host {request.url.host})"
        if attempts > 1:
            text += f" (gave up after {attempts} attempts)"
        return cls(text, method=request.method, url=safe_url(request.url), request_sent=sent)
