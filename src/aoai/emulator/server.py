"""Serve the emulator: one Starlette app (ARM + data plane + control) under uvicorn, over HTTPS
with a throwaway CA, on loopback only.

ARM and the data plane share one port: their paths never overlap (``/subscriptions/…``,
``/providers/…`` versus ``/openai/v1/…``), and one port keeps the printed environment short.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aoai.emulator.faults import Fault, FaultRegistry
from aoai.emulator.scenario import Scenario, load_scenario

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    body: Any  # parsed JSON body, or None
    at: float


@dataclass
class EmulatorState:
    """Everything the route handlers share. Handlers hold this, never module globals."""

    scenario: Scenario
    api_key: str
    access_token: str
    latency_ms: int = 0
    tokens_per_second: float = 200.0
    replay_window_s: float = 300.0  # how long a background response's events can be streamed again
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Free-form per-module storage (e.g. the data plane's stored responses).
    stores: dict[str, Any] = field(default_factory=dict)

    def record(self, entry: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(entry)


class _RecordAndDelay:
    """ASGI middleware: record every request (method, path, query, JSON body), then apply the
    emulator-wide latency (``--latency-ms``) to everything but the control routes."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.state.record(
            RecordedRequest(scope["method"], scope["path"], scope["query_string"].decode(), body, time.time())
        )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        if self.state.latency_ms:
            await asyncio.sleep(self.state.latency_ms / 1000)
        await self.app(scope, replay, send)


def _control_routes(state: EmulatorState) -> list[BaseRoute]:
    def loopback_only(request: Request) -> Response | None:
        host = request.client.host if request.client else ""
        if host not in LOOPBACK_HOSTS:
            return JSONResponse({"error": {"code": "Forbidden", "message": "control is loopback-only"}}, 403)
        return None

    async def faults(request: Request) -> Response:
        if (denied := loopback_only(request)) is not None:
            return denied
        if request.method == "DELETE":
            state.faults.clear()
            return JSONResponse({"faults": []})
        if request.method == "POST":
            try:
                data = await request.json()
                items = data if isinstance(data, list) else [data]
                added = [state.faults.add(Fault.parse(item)).id for item in items]
            except ValueError as exc:
                return JSONResponse({"error": {"code": "InvalidFault", "message": str(exc)}}, 400)
            return JSONResponse({"ids": added, "faults": state.faults.snapshot()})
        return JSONResponse({"faults": state.faults.snapshot()})

    async def requests(request: Request) -> Response:
        if (denied := loopback_only(request)) is not None:
            return denied
        if request.method == "DELETE":
            with state.lock:
                state.requests.clear()
            return JSONResponse({"requests": []})
        with state.lock:
            items = [r.__dict__ for r in state.requests]
        return JSONResponse({"requests": items, "count": len(items)})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "scenario": state.scenario.name})

    return [
        Route("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/requests", requests, methods=["GET", "DELETE"]),
        Route("/_emulator/health", health, methods=["GET"]),
    ]


def build_app(state: EmulatorState) -> ASGIApp:
    from aoai.emulator import arm, dataplane

    routes = _control_routes(state) + dataplane.routes(state) + arm.routes(state)
    app = Starlette(routes=routes)
    return _RecordAndDelay(app, state)


@dataclass
class RunningEmulator:
    """A started emulator: its URL, CA file, the environment a client needs, and how to stop it."""

    url: str
    ca_path: Path
    state: EmulatorState
    _server: Any
    _thread: threading.Thread
    _tmp: tempfile.TemporaryDirectory[str] | None

    @property
    def env(self) -> dict[str, str]:
        subscription = self.state.scenario.default_subscription
        return {
            "AZURE_OPENAI_ENDPOINT": self.url,
            "AZURE_OPENAI_API_KEY": self.state.api_key,
            "AOAI_ARM_ENDPOINT": self.url,
            "AOAI_ACCESS_TOKEN": self.state.access_token,
            "AZURE_SUBSCRIPTION_ID": subscription,
            "SSL_CERT_FILE": str(self.ca_path),
            "REQUESTS_CA_BUNDLE": str(self.ca_path),
        }

    def stop(self) -> None:
        # force_exit: do not wait for idle keep-alive connections (uvicorn would log a warning).
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
        if self._tmp is not None:
            self._tmp.cleanup()


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    scenario: str = "default",
    latency_ms: int = 0,
    tokens_per_second: float = 200.0,
    api_key: str | None = None,
    access_token: str | None = None,
    workdir: Path | None = None,
    replay_window_s: float = 300.0,
) -> RunningEmulator:
    """Start the emulator on a background thread and return once it is accepting connections."""
    import trustme
    import uvicorn

    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the emulator listens on loopback only (127.0.0.1, localhost, ::1), not {host!r}")
    state = EmulatorState(
        scenario=load_scenario(scenario),
        api_key=api_key or "emu-key-" + secrets.token_hex(16),
        access_token=access_token or "emu-token-" + secrets.token_hex(24),
        latency_ms=latency_ms,
        tokens_per_second=tokens_per_second,
        replay_window_s=replay_window_s,
    )
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="aoai-emulator-")
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="aoai emulator throwaway CA")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca_path = workdir / "aoai-emulator-ca.pem"
    cert_path = workdir / "aoai-emulator-cert.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert_path.chmod(0o600)

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0) lets asyncio set TCP_NODELAY on accepted connections; without it
    # Nagle + delayed ACK add ~40 ms to every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]

    config = uvicorn.Config(
        build_app(state),
        ssl_certfile=str(cert_path),
        ssl_keyfile=str(cert_path),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="aoai-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    url_host = f"[{host}]" if ":" in host else host
    return RunningEmulator(
        url=f"https://{url_host}:{bound_port}",
        ca_path=ca_path,
        state=state,
        _server=server,
        _thread=thread,
        _tmp=tmp,
    )
