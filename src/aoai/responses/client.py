"""``ResponsesClient``: the Azure OpenAI v1 Responses API over httpx, with retries.

Invariants:

- Every call goes to ``{base_url}/responses…`` where ``base_url`` is the normalised
  ``https://HOST/openai/v1`` (``config.normalize_endpoint``); no ``api-version`` is sent.
- Retries follow azure-core: 429, 500, 502, 503, 504 and transport failures are retried with
  exponential backoff and jitter, honouring ``retry-after-ms``, then ``retry-after`` (seconds or
  an HTTP date), each capped. ``POST /responses`` and ``POST /responses/compact`` are not
  idempotent, so they are retried only when the service surely did not process them: 429, 503,
  or a connection that was never made. One ``x-ms-client-request-id`` covers all attempts.
- The client never prints. Each wait is handed to ``on_retry`` (the CLI shows it on stderr);
  method, URL, status, timing and request ids go to ``logging`` (``--debug``). Headers and
  bodies are never logged, so neither keys nor tokens nor prompts reach a log.
- Failures leave as ``aoai.errors`` types: ``ServiceError`` (status, code, request id, and a
  hint saying what to fix) or ``TransportError``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from aoai import __version__
from aoai.errors import AoaiError, ServiceError, TransportError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses after which a non-idempotent POST surely was not processed.
UNPROCESSED_STATUSES = frozenset({429, 503})
REQUEST_ID_HEADERS = ("apim-request-id", "x-request-id", "x-ms-request-id")


class Operation(StrEnum):
    CREATE = "create"
    RETRIEVE = "retrieve"
    CANCEL = "cancel"
    DELETE = "delete"
    COMPACT = "compact"
    INPUT_ITEMS = "input_items"

    @property
    def idempotent(self) -> bool:
        # Cancel is idempotent by contract ("subsequent calls return the final response object").
        return self not in (Operation.CREATE, Operation.COMPACT)


class HeaderSource(Protocol):
    """What the client needs from a credential (``auth.DataPlaneAuth`` is one)."""

    mode: str
    description: str
    scope: str | None

    def headers(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class RetryNotice:
    """One wait before a retry, for the caller to show."""

    operation: Operation
    method: str
    path: str
    reason: str
    request_id: str | None
    retry: int  # 1-based
    max_retries: int
    delay: float
    source: str  # "retry-after-ms", "retry-after" or "backoff"

    def describe(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        told = f" as {self.source} asks" if self.source != "backoff" else ""
        return (
            f"{self.method} {self.path}: {self.reason}{rid}; retry {self.retry} of {self.max_retries} "
            f"in {self.delay:.2f} s{told}"
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter (delay × (1 - jitter·U)), capped; server waits capped too."""

    max_retries: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25

    def backoff(self, retry: int, rand: float) -> float:
        base: float = min(self.max_delay, self.initial_delay * 2.0 ** (retry - 1))
        return base * (1.0 - self.jitter * rand)


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> tuple[float, str] | None:
    """The wait the service asks for: ``retry-after-ms``, then ``retry-after`` (seconds or HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value, "retry-after-ms"
    raw = headers.get("retry-after")
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - (now or datetime.now(UTC))).total_seconds()
            seconds = max(seconds, 0.0)
        if seconds >= 0:
            return seconds, "retry-after"
    return None


def request_id_of(headers: Mapping[str, str]) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from Azure's ``{"error": {"code", "message"}}`` or APIM's ``{"statusCode", "message"}``."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())[:300]
        return None, text or response.reason_phrase or "error"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            message = error.get("message") or response.reason_phrase or "error"
            return (str(code) if code is not None else None), str(message)
        if isinstance(body.get("message"), str):
            code = body.get("code") or body.get("statusCode")
            return (str(code) if code is not None else None), body["message"]
    return None, response.reason_phrase or "error"


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _describe_transport(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    kind = {
        httpx.ConnectError: "could not connect",
        httpx.ConnectTimeout: "connection timed out",
        httpx.ReadTimeout: "timed out waiting for the service",
        httpx.WriteTimeout: "timed out sending the request",
        httpx.PoolTimeout: "no free connection",
        httpx.RemoteProtocolError: "the connection broke",
        httpx.ReadError: "the connection broke",
    }.get(type(exc), type(exc).__name__)
    return f"{kind} ({text})" if text else kind


class ResponsesClient:
    """Talks to one Azure OpenAI / Foundry resource's Responses API. Immutable once built.

    ``transport`` replaces the network (``httpx.MockTransport`` in unit tests). ``on_retry`` is
    called before each wait; ``sleep`` and ``rand`` are there so tests need not wait.
    """

    def __init__(
        self,
        base_url: str,
        auth: HeaderSource,
        *,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 3,
        timeout: float = 60.0,
        ca_bundle: str | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._base_url = base_url.rstrip("/")
        self._auth = auth
        self._policy = retry_policy if retry_policy is not None else RetryPolicy(max_retries=max_retries)
        self._on_retry = on_retry
        self._sleep = sleep
        self._rand = rand
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        self._http = httpx.Client(
            transport=transport,
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            # ``headers``: extra headers for every request, e.g. x-ms-oai-image-generation-deployment.
            headers={**(headers or {}), "user-agent": f"aoai/{__version__} httpx/{httpx.__version__}"},
            follow_redirects=False,
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def auth_description(self) -> str:
        return self._auth.description

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ResponsesClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ---------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /responses`` without streaming: the response object (``queued`` when background)."""
        payload = {**body}
        payload.pop("stream", None)
        return self._json(Operation.CREATE, "POST", "/responses", json_body=payload)

    def open_create_stream(self, body: Mapping[str, Any]) -> httpx.Response:
        """``POST /responses`` with ``stream: true``; an open response whose body is the event stream."""
        return self._send(Operation.CREATE, "POST", "/responses", json_body={**body, "stream": True}, stream=True)

    def retrieve(self, response_id: str, *, include: Sequence[str] = ()) -> dict[str, Any]:
        params: list[tuple[str, str | int | float | bool | None]] = [("include[]", value) for value in include]
        return self._json(Operation.RETRIEVE, "GET", f"/responses/{_seg(response_id)}", params=params)

    def open_retrieve_stream(
        self, response_id: str, *, starting_after: int | None = None, include: Sequence[str] = ()
    ) -> httpx.Response:
        """``GET /responses/{id}?stream=true&starting_after=N``: replay of a background response's events."""
        params: list[tuple[str, str | int | float | bool | None]] = [("stream", "true")]
        if starting_after is not None:
            params.append(("starting_after", str(starting_after)))
        params += [("include[]", value) for value in include]
        return self._send(Operation.RETRIEVE, "GET", f"/responses/{_seg(response_id)}", params=params, stream=True)

    def cancel(self, response_id: str) -> dict[str, Any]:
        return self._json(Operation.CANCEL, "POST", f"/responses/{_seg(response_id)}/cancel")

    def delete(self, response_id: str) -> dict[str, Any]:
        result = self._json(Operation.DELETE, "DELETE", f"/responses/{_seg(response_id)}")
        return result or {"id": response_id, "object": "response", "deleted": True}

    def compact(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(Operation.COMPACT, "POST", "/responses/compact", json_body=dict(body))

    def list_input_items(
        self,
        response_id: str,
        *,
        limit: int | None = None,
        order: str | None = None,
        after: str | None = None,
        include: Sequence[str] = (),
    ) -> dict[str, Any]:
        """One page of ``GET /responses/{id}/input_items``."""
        params: list[tuple[str, str | int | float | bool | None]] = []
        if limit is not None:
            params.append(("limit", str(limit)))
        if order is not None:
            params.append(("order", order))
        if after is not None:
            params.append(("after", after))
        params += [("include[]", value) for value in include]
        return self._json(Operation.INPUT_ITEMS, "GET", f"/responses/{_seg(response_id)}/input_items", params=params)

    def iter_input_item_pages(
        self,
        response_id: str,
        *,
        limit: int | None = None,
        order: str | None = None,
        after: str | None = None,
        include: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Every page, following ``has_more`` / ``last_id``."""
        seen: set[str] = set()
        while True:
            page = self.list_input_items(response_id, limit=limit, order=order, after=after, include=include)
            yield page
            last_id = page.get("last_id")
            if not page.get("has_more") or not isinstance(last_id, str) or last_id in seen:
                return
            seen.add(last_id)
            after = last_id

    # -- transport ----------------------------------------------------------------------------

    def _json(
        self,
        op: Operation,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str | int | float | bool | None]] | None = None,
        json_body: Any = None,
    ) -> dict[str, Any]:
        response = self._send(op, method, path, params=params, json_body=json_body)
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError as exc:
            raise TransportError(
                f"{method} {path}: the service answered {response.status_code} with a body that is not JSON "
                f"(request id {request_id_of(response.headers) or 'none'})"
            ) from exc
        if not isinstance(data, dict):
            raise TransportError(f"{method} {path}: expected a JSON object, got {type(data).__name__}")
        return data

    def _send(
        self,
        op: Operation,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str | int | float | bool | None]] | None = None,
        json_body: Any = None,
        stream: bool = False,
    ) -> httpx.Response:
        url = self._base_url + path
        client_request_id = str(uuid.uuid4())
        retries = 0
        max_retries = self._policy.max_retries
        while True:
            headers = {**self._auth.headers(), "x-ms-client-request-id": client_request_id}
            if stream:
                headers["accept"] = "text/event-stream"
                headers["cache-control"] = "no-store"
            request = self._http.build_request(method, url, params=params or None, json=json_body, headers=headers)
            started = time.perf_counter()
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                elapsed_ms = (time.perf_counter() - started) * 1000
                log.debug("%s %s -> %s after %.1f ms", method, request.url, type(exc).__name__, elapsed_ms)
                tls = _tls_failure(exc)
                if tls is not None:
                    raise TransportError(
                        f"TLS failure talking to {request.url.host}: {getattr(tls, 'reason', None) or tls}",
                        hint="if a proxy or private CA signs this endpoint, pass --ca-bundle PATH "
                        "(or set REQUESTS_CA_BUNDLE / SSL_CERT_FILE)",
                    ) from exc
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                if (never_sent or op.idempotent) and retries < max_retries:
                    retries += 1
                    self._wait(op, method, path, _describe_transport(exc), None, retries, None)
                    continue
                tried = f" after {retries} retries" if retries else ""
                raise TransportError(
                    f"{method} {path} to {request.url.host}: {_describe_transport(exc)}{tried}",
                    hint="check the endpoint and your network; --max-retries sets how often to retry",
                ) from exc
            elapsed_ms = (time.perf_counter() - started) * 1000
            status = response.status_code
            rid = request_id_of(response.headers)
            log.debug(
                "%s %s -> %d in %.1f ms (request id %s; client request id %s)",
                method,
                request.url,
                status,
                elapsed_ms,
                rid or "none",
                client_request_id,
            )
            if status < 300:
                return response
            if stream:
                try:
                    response.read()
                except httpx.TransportError:
                    pass
                finally:
                    response.close()
            retryable = RETRY_STATUSES if op.idempotent else UNPROCESSED_STATUSES
            if status in retryable and retries < max_retries:
                retries += 1
                told = retry_after(response.headers)
                reason = f"{status} {response.reason_phrase}".strip()
                self._wait(op, method, path, reason, rid, retries, told)
                continue
            raise self._error(op, response, retries)

    def _wait(
        self,
        op: Operation,
        method: str,
        path: str,
        reason: str,
        request_id: str | None,
        retry: int,
        told: tuple[float, str] | None,
    ) -> None:
        if told is not None:
            delay, source = min(told[0], self._policy.max_retry_after), told[1]
        else:
            delay, source = self._policy.backoff(retry, self._rand()), "backoff"
        notice = RetryNotice(op, method, path, reason, request_id, retry, self._policy.max_retries, delay, source)
        if self._on_retry is not None:
            self._on_retry(notice)
        else:
            log.debug("retrying: %s", notice.describe())
        if delay > 0:
            self._sleep(delay)

    def _error(self, op: Operation, response: httpx.Response, retries: int) -> AoaiError:
        status = response.status_code
        code, message = _error_fields(response)
        hint: str | None = None
        if status in (401, 403):
            hint = f"the service refused the {self._auth.description}"
            if self._auth.mode == "entra":
                hint += (
                    f"; the token must be issued for scope {self._auth.scope} (--scope) and the identity "
                    "needs a role such as 'Cognitive Services OpenAI User' on the resource"
                )
            else:
                hint += "; keys belong to one resource: check it is this endpoint's key, or use --auth entra"
        elif status == 404 and op in (Operation.CREATE, Operation.COMPACT):
            hint = (
                "`model` (-m/--model) must be the deployment name, not the model name: list deployments with "
                "`az cognitiveservices account deployment list` or `aoai preflight`"
            )
        elif status == 404:
            hint = "no such response here: responses are kept 30 days, and --no-store responses are never stored"
        elif status in RETRY_STATUSES and retries:
            hint = f"gave up after {retries} retries; --max-retries sets how many"
        return ServiceError(message, status=status, code=code, request_id=request_id_of(response.headers), hint=hint)


def _seg(value: str) -> str:
    """One path segment: response ids are opaque, never let one change the path."""
    return quote(value, safe="")
