"""Every wait an ARM read takes is bounded: per wait (``--max-wait``) and per run (``--timeout``).

ARM answers throttling with 429 and a ``Retry-After`` (``ResourceRequestsThrottled``,
``SubscriptionRequestsThrottled``) that can be minutes long. azure-core's retry policy sleeps
whatever it is told, before each retry; a CI job's own timeout then kills the run and no report
is written at all. Here the SDK clients get :func:`bounded_retry_policy` instead: a wait longer
than ``max_wait``, or one that would end past the run's deadline, is not slept — the read fails at
once with :class:`WaitRefused` (the part becomes ``error``, request id kept, exit 4). Waits that
are taken are told to ``notify`` (the CLI prints them on stderr). The deadline also caps each
request's connect time, so no read starts a long wait after the run should have ended.

The clock and the sleep are injectable, so tests need no long sleeps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_WAIT = 30.0
DEFAULT_TIMEOUT = 120.0


class WaitRefused(Exception):
    """A wait ARM asked for that the run will not take. Not an ``AzureError``: azure-core's retry
    loop must not catch it and retry."""

    def __init__(self, message: str, *, status: int | None, code: str | None, request_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id


@dataclass
class WaitBudget:
    """The run's waiting rules and its deadline (``timeout`` seconds after creation). Thread-safe."""

    max_wait: float = DEFAULT_MAX_WAIT
    timeout: float = DEFAULT_TIMEOUT
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    notify: Callable[[str], None] | None = None
    started: float = field(default=-1.0)
    waited: float = 0.0
    waits: int = 0

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    @property
    def deadline(self) -> float:
        return self.started + self.timeout

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def deadline_text(self) -> str:
        return f"the run's deadline (--timeout {self.timeout:g} s)"

    def wait(
        self,
        seconds: float,
        *,
        asked: bool,
        reason: str,
        what: str,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        """Sleep ``seconds`` before a retry, or raise WaitRefused when that breaks a bound.
        ``asked``: the service asked for it (Retry-After); else it is our own backoff."""
        if asked and seconds > self.max_wait:
            raise WaitRefused(
                f"{reason}; it asks to retry after {seconds:g} s (more than --max-wait {self.max_wait:g} s)",
                status=status,
                code=code,
                request_id=request_id,
            )
        if seconds >= self.remaining():
            raise WaitRefused(
                f"{reason}; a retry after {seconds:g} s would end past {self.deadline_text()}",
                status=status,
                code=code,
                request_id=request_id,
            )
        self.waits += 1
        self.waited += seconds
        if self.notify is not None:
            told = " as Retry-After asks" if asked else ""
            rid = f", request id {request_id}" if request_id else ""
            self.notify(f"{what}: {reason}{rid}; retrying in {seconds:.1f} s{told}")
        self.sleep(seconds)


def _error_code(http_response: Any) -> str | None:
    try:
        body = json.loads(http_response.text() or "{}")
    except (ValueError, AttributeError, TypeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else None


def _what(response: Any) -> str:
    """ "GET …/locations/westeurope/usages" for the wait notice (no query string)."""
    request = getattr(response, "http_request", None)
    path = str(getattr(request, "url", "") or "").split("?", 1)[0].rstrip("/")
    tail = "/".join(path.split("/")[-3:])
    return f"{getattr(request, 'method', 'GET')} …/{tail}" if tail else "ARM read"


def bounded_retry_policy(budget: WaitBudget, **kwargs: Any) -> Any:
    """An azure-core ``RetryPolicy`` (``retry_total`` etc. as usual) whose waits obey ``budget``."""
    from azure.core.pipeline.policies import RetryPolicy

    class BoundedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]  # generic over transports
        def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
            settings: dict[str, Any] = super().configure_retries(options)
            # azure-core's own absolute timeout, per call: never past the run's deadline.
            settings["timeout"] = min(float(settings["timeout"]), max(budget.remaining(), 0.0))
            return settings

        def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
            retry_after = self.get_retry_after(response) if response is not None else None
            delay = float(retry_after) if retry_after is not None else float(self.get_backoff_time(settings))
            http = getattr(response, "http_response", None)
            status = getattr(http, "status_code", None)
            code = _error_code(http) if http is not None else None
            request_id = http.headers.get("x-ms-request-id") if http is not None else None
            if status == 429:
                reason = f"ARM throttled this read ({code or 'TooManyRequests'})"
            elif status is not None:
                reason = f"ARM answered {status}" + (f" ({code})" if code else "")
            else:
                reason = "the connection failed"
            budget.wait(
                delay,
                asked=retry_after is not None,
                reason=reason,
                what=_what(response),
                code=code,
                status=status,
                request_id=request_id,
            )

    return BoundedRetryPolicy(**kwargs)
