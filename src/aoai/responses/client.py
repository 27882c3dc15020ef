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
- A wait the service asks for beyond the cap is not slept: the call fails at once, saying how long
  was asked. A 2xx whose body is not the JSON object the operation returns (DELETE may be empty)
  is a failure naming status, content type and request id, so no caller goes on with an id it did
  not receive. HTML error pages are described (status, "an HTML page", its title), never printed.
- Failures leave as ``aoai.errors`` types: ``ServiceError`` (status, code, request id, and a
  hint saying what to fix) or ``TransportError``.
"""

from __future__ import annotations

import email.utils
import html
import logging
import random
import re
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
from aoai.errors import AoaiError, ExitCode, ServiceError, TransportError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses after which a non-idempotent POST surely was not processed.
UNPROCESSED_STATUSES = frozenset({429, 503})
REQUEST_ID_HEADERS = ("apim-request-id", "x-request-id", "x-ms-request-id")


MAX_INPUT_ITEMS_PAGE = 100  # OpenAPI: GET /responses/{id}/input_items takes limit 1-100 (default 20)

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


# Operations whose answer is a response object: it must carry the id.
_RETURNS_RESPONSE = frozenset({Operation.CREATE, Operation.RETRIEVE, Operation.CANCEL})


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
    asked: float | None = None  # the wait the service asked for, when it named one

    def describe(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        told = ""
        if self.source != "backoff":
            # Say what was asked only when it is what we do; a shortened wait says so.
            if self.asked is not None and self.asked > self.delay:
                told = f" ({self.source} asked {self.asked:g} s, capped at {self.delay:g} s)"
            else:
                told = f" as {self.source} asks"
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


_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>?")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# Model or deployment the request names does not exist / cannot serve it: 404 from the classic
# route, 400 model_not_found from the v1 API.
_NO_DEPLOYMENT_CODES = frozenset({"DeploymentNotFound", "model_not_found"})


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() or "none"


def _looks_like_html(response: httpx.Response) -> bool:
    if _content_type(response) in ("text/html", "application/xhtml+xml"):
        return True
    head = response.content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def html_title(response: httpx.Response) -> str | None:
    """The ``<title>`` of an HTML page (else the start of its text), as plain one-line text, never markup."""
    page = _SCRIPT.sub(" ", response.text)
    match = _TITLE.search(page)
    source = match.group(1) if match is not None else page
    title = " ".join(html.unescape(_TAG.sub(" ", source)).split())
    return (title[:120] + ("…" if len(title) > 120 else "")) or None


def describe_body(response: httpx.Response) -> str:
    """A body that is not the JSON the API returns, said in words: never the markup itself."""
    if not response.content:
        return "an empty body"
    if _looks_like_html(response):
        title = html_title(response)
        return "an HTML page, probably from a proxy or gateway" + (f" (title: {title})" if title else "")
    return f"a body that is not a JSON object ({_content_type(response)})"


def _plain_text(response: httpx.Response) -> str:
    """A short non-JSON error body as one line of text, tags removed."""
    text = " ".join(html.unescape(_TAG.sub(" ", response.text)).split())
    return text[:300] + ("…" if len(text) > 300 else "")


def filter_categories(error: Mapping[str, Any]) -> list[str]:
    """The content-filter categories that blocked a request, e.g. ``violence (medium)``.

    Azure puts them in ``innererror.content_filter_result`` (400 ``content_filter``), or in
    ``content_filter_result(s)`` next to the message; each category is ``{"filtered": true,
    "severity": …}`` (or ``"detected": true`` for jailbreak / protected material).
    """
    found: list[str] = []
    inner = error.get("innererror")
    for holder in (error, inner if isinstance(inner, Mapping) else {}):
        for key in ("content_filter_result", "content_filter_results"):
            results = holder.get(key)
            if not isinstance(results, dict):
                continue
            for category, verdict in results.items():
                if isinstance(verdict, dict) and verdict.get("filtered") is True:
                    severity = verdict.get("severity")
                    label = f"{category} ({severity})" if isinstance(severity, str) and severity != "safe" else category
                    if label not in found:
                        found.append(label)
    return found


def _error_fields(response: httpx.Response) -> tuple[str | None, str, list[str]]:
    """(code, message, filter categories) from Azure's ``{"error": {"code", "message"}}`` or APIM's
    ``{"statusCode", "message"}``; an HTML page or other text said in words."""
    try:
        body = response.json()
    except ValueError:
        if _looks_like_html(response):
            return None, describe_body(response), []
        return None, _plain_text(response) or response.reason_phrase or "error", []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            message = error.get("message") or response.reason_phrase or "error"
            return (str(code) if code is not None else None), str(message), filter_categories(error)
        if isinstance(body.get("message"), str):
            code = body.get("code") or body.get("statusCode")
            return (str(code) if code is not None else None), body["message"], []
    return None, response.reason_phrase or "error", []


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
        # DELETE may answer with no body at all; anything else must still be a JSON object.
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
        """Every page, following ``has_more`` / ``last_id``; the largest pages the API allows unless
        ``limit`` says otherwise (the default of 20 would cost five requests per 100 items)."""
        limit = MAX_INPUT_ITEMS_PAGE if limit is None else limit
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
        if not response.content and op is Operation.DELETE:
            return {}
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self._not_the_answer(method, path, response, describe_body(response))
        if op in _RETURNS_RESPONSE and not (isinstance(data.get("id"), str) and data["id"]):
            # A command must never go on with an id it did not receive (`GET /responses/None`).
            raise self._not_the_answer(method, path, response, "a JSON object without a response id")
        if op is Operation.INPUT_ITEMS and not isinstance(data.get("data"), list):
            raise self._not_the_answer(method, path, response, "a JSON object without a `data` list")
        return data

    @staticmethod
    def _not_the_answer(method: str, path: str, response: httpx.Response, what: str) -> AoaiError:
        """A 2xx whose body is not what the operation returns: something in the path answered for the service."""
        status = f"{response.status_code} {response.reason_phrase}".strip()
        return AoaiError(
            f"{method} {path} answered {status} with {what} "
            f"(content type {_content_type(response)}; request id {request_id_of(response.headers) or 'none'})",
            hint="a proxy or gateway between you and the service may have answered; retry, or check the endpoint",
        )

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
                told = retry_after(response.headers)
                if told is not None and told[0] > self._policy.max_retry_after:
                    raise self._error(op, response, retries, asked_wait=told)
                retries += 1
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
        asked: float | None = None
        if told is not None:
            asked, source = told
            delay = min(asked, self._policy.max_retry_after)
        else:
            delay, source = self._policy.backoff(retry, self._rand()), "backoff"
        notice = RetryNotice(
            op, method, path, reason, request_id, retry, self._policy.max_retries, delay, source, asked
        )
        if self._on_retry is not None:
            self._on_retry(notice)
        else:
            log.debug("retrying: %s", notice.describe())
        if delay > 0:
            self._sleep(delay)

    def _error(
        self,
        op: Operation,
        response: httpx.Response,
        retries: int,
        *,
        asked_wait: tuple[float, str] | None = None,
    ) -> AoaiError:
        status = response.status_code
        code, message, categories = _error_fields(response)
        page = _looks_like_html(response)
        hint: str | None = None
        # Only create and compact name a deployment (`model`).
        no_deployment = op in (Operation.CREATE, Operation.COMPACT) and (code in _NO_DEPLOYMENT_CODES or status == 404)
        if asked_wait is not None:
            seconds, source = asked_wait
            hint = (
                f"the service asks to wait {_duration(seconds)} ({source}), longer than the "
                f"{self._policy.max_retry_after:g} s aoai waits between retries: not waiting; try again later"
            )
        elif categories:
            hint = "the content filter flagged: " + ", ".join(categories) + "; rephrase the input"
        elif status in (401, 403):
            hint = f"the service refused the {self._auth.description}"
            if self._auth.mode == "entra":
                hint += (
                    f"; the token must be issued for scope {self._auth.scope} (--scope) and the identity "
                    "needs a role such as 'Cognitive Services OpenAI User' on the resource"
                )
            else:
                hint += "; keys belong to one resource: check it is this endpoint's key, or use --auth entra"
        elif no_deployment:
            hint = (
                "`model` (-m/--model) must be the deployment name, not the model name: list deployments with "
                "`az cognitiveservices account deployment list`; the model or the region may also not offer "
                "the Responses API (`aoai preflight run` checks both)"
            )
        elif status == 404:
            hint = "no such response here: responses are kept 30 days, and --no-store responses are never stored"
        elif status in RETRY_STATUSES and retries:
            hint = f"gave up after {retries} retries; --max-retries sets how many"
        kind = HtmlPageError if page else ServiceError
        error = kind(message, status=status, code=code, request_id=request_id_of(response.headers), hint=hint)
        if page:
            error.code = response.reason_phrase or None
        if no_deployment:
            error.exit_code = ExitCode.NOT_FOUND
        elif asked_wait is not None:
            error.exit_code = ExitCode.INCOMPLETE
        return error


class HtmlPageError(ServiceError):
    """An error status whose body is an HTML page (a gateway's or proxy's, not the API's JSON)."""

    def one_line(self) -> str:
        text = f"{self.status} {self.code or ''}".strip() + f" — {' '.join(self.message.split())}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        if self.hint:
            text += f" — {' '.join(self.hint.split())}"
        return text


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ({seconds:g} s)"
    return f"{seconds / 3600:.1f} h ({seconds:g} s)"


def _seg(value: str) -> str:
    """One path segment: response ids are opaque, never let one change the path."""
    return quote(value, safe="")
