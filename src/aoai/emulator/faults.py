"""Fault injection, armed per route through the loopback-only control endpoint.

A fault is a JSON object posted to ``POST /_emulator/faults``::

    {"route": "responses.create", "status": 429, "retry_after_ms": 50, "count": 2}
    {"route": "arm.*", "latency_ms": 300}                     # extra latency, count 1
    {"route": "responses.retrieve", "cut_after_events": 7}     # stream cut after 7 events
    {"route": "responses.create", "first_token_delay_ms": 800} # slow first token
    {"route": "responses.*", "expired_token": true}            # 401 as for an expired token
    {"route": "responses.retrieve", "replay_window_ms": 0}     # replays refused as "too old"

``route`` is an fnmatch pattern over route names (``responses.create``, ``responses.retrieve``,
``responses.cancel``, ``responses.delete``, ``responses.compact``, ``responses.input_items``,
``arm.<operation>``, ``graph.resources``). ``count`` is how many requests the fault hits (default
1; -1 = until cleared). The oldest matching fault wins; latency faults add to other faults.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response

_ids = itertools.count(1)

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "route": str,
    "count": int,
    "status": int,
    "code": str,
    "message": str,
    "retry_after": (int, float, str),
    "retry_after_ms": int,
    "latency_ms": int,
    "cut_after_events": int,
    "cut_mode": str,
    "first_token_delay_ms": int,
    "expired_token": bool,
    "replay_window_ms": int,
}


@dataclass
class Fault:
    route: str
    count: int = 1
    status: int | None = None
    code: str | None = None
    message: str | None = None
    retry_after: int | float | str | None = None
    retry_after_ms: int | None = None
    latency_ms: int | None = None
    cut_after_events: int | None = None
    cut_mode: str = "abort"  # "abort": drop the connection mid-body; "eof": end the body cleanly, no terminal event
    first_token_delay_ms: int | None = None
    expired_token: bool = False
    replay_window_ms: int | None = None  # shortens the replay window (--replay-window) for the streams it hits
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def is_stream_fault(self) -> bool:
        return (
            self.cut_after_events is not None
            or self.first_token_delay_ms is not None
            or self.replay_window_ms is not None
        )

    @classmethod
    def parse(cls, data: Any) -> Fault:
        if not isinstance(data, dict) or not isinstance(data.get("route"), str):
            raise ValueError("a fault is a JSON object with at least a string 'route'")
        for key, value in data.items():
            if key not in _FIELDS:
                raise ValueError(f"unknown fault field {key!r}; known: {', '.join(_FIELDS)}")
            if not isinstance(value, _FIELDS[key]) or (isinstance(value, bool) and _FIELDS[key] is int):
                raise ValueError(f"fault field {key!r} has the wrong type")
        if data.get("cut_mode", "abort") not in ("abort", "eof"):
            raise ValueError("cut_mode is 'abort' or 'eof'")
        return cls(**data)


class FaultRegistry:
    """Thread-safe list of armed faults; ``take`` consumes one hit of the first match."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take(self, route: str, *, stream: bool | None = None) -> list[Fault]:
        """Faults that hit this request: every matching latency fault, plus the first other match.

        ``stream`` narrows the non-latency match: True takes only stream faults (cut, slow first
        token) and no latency faults, False only HTTP faults, None either. A streaming handler
        calls ``take(route, stream=False)`` on arrival and ``take(route, stream=True)`` before it
        starts the event stream.
        """
        hits: list[Fault] = []
        with self._lock:
            primary_taken = False
            for fault in list(self._faults):
                if not fnmatch.fnmatchcase(route, fault.route):
                    continue
                only_latency = fault.latency_ms is not None and fault.status is None and not (
                    fault.is_stream_fault or fault.expired_token
                )
                if only_latency and stream is True:
                    continue  # latency was applied when the request arrived
                if not only_latency:
                    if primary_taken:
                        continue
                    if stream is True and not fault.is_stream_fault:
                        continue
                    if stream is False and fault.is_stream_fault:
                        continue
                    primary_taken = True
                hits.append(fault)
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
        return hits


def _error_body(route: str, status: int, code: str | None, message: str | None) -> dict[str, Any]:
    if route.startswith("responses."):
        # Azure OpenAI data-plane errors carry the status as the code for throttling and 5xx.
        default_message = {
            429: "Requests to the Responses Operation under Azure OpenAI API version v1 have exceeded "
            "token rate limit of your current AIServices S0 pricing tier. Please retry after 1 second.",
        }.get(status, "The server had an error while processing your request. Sorry about that!")
        return {"error": {"code": code or str(status), "message": message or default_message}}
    default_code = {429: "SubscriptionRequestsThrottled"}.get(status, "InternalServerError")
    default_message = {
        429: "Number of 'read' requests for subscription exceeded the limit of '12000' for time interval "
        "'01:00:00'. Please try again after some time.",
    }.get(status, "The server encountered an internal error.")
    return {"error": {"code": code or default_code, "message": message or default_message}}


async def http_fault_response(faults: list[Fault], route: str) -> Response | None:
    """Sleep for latency faults; return the error response a status / token fault asks for, if any."""
    for fault in faults:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
    for fault in faults:
        request_id = str(uuid.uuid4())
        if fault.expired_token:
            if route.startswith("responses."):
                body = {
                    "error": {
                        "code": "401",
                        "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
                        "(https://cognitiveservices.azure.com), or have expired.",
                    }
                }
            else:
                body = {
                    "error": {
                        "code": "ExpiredAuthenticationToken",
                        "message": "The access token expiry UTC time is earlier than current UTC time.",
                    }
                }
            return JSONResponse(body, status_code=401, headers={"x-ms-request-id": request_id})
        if fault.status is not None:
            headers = {"x-ms-request-id": request_id, "apim-request-id": request_id}
            if fault.retry_after is not None:
                headers["retry-after"] = str(fault.retry_after)
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = str(fault.retry_after_ms)
            return Response(
                json.dumps(_error_body(route, fault.status, fault.code, fault.message)),
                status_code=fault.status,
                media_type="application/json",
                headers=headers,
            )
    return None
