"""Exact bytes from real endpoints, gateways and proxies, replayed two ways.

``transport(...)``: an ``httpx.MockTransport`` for unit tests of the client and streams.
``ReplayServer``: a tiny loopback HTTP server for subprocess tests of the real ``aoai`` (plain
``http://`` is accepted for loopback addresses only), answering each request from a script.

A script maps a request to a ``Wire`` answer: status line, headers and body exactly as sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass(frozen=True)
class Wire:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None  # the status line's phrase, when it is not the standard one

    def header_dict(self) -> dict[str, str]:
        return dict(self.headers)


Script = Callable[[str, str], Wire]  # (method, path with query) -> answer


def json_wire(status: int, body: str, *extra: tuple[str, str]) -> Wire:
    return Wire(status, body.encode(), (("content-type", "application/json"), ("apim-request-id", "req-42"), *extra))


def sse_wire(frames: list[str]) -> Wire:
    """An event stream of raw frames (each the text between blank lines)."""
    return Wire(200, "".join(f"{frame}\n\n" for frame in frames).encode(), (("content-type", "text/event-stream"),))


def transport(script: Script, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        path = request.url.raw_path.decode()
        answer = script(request.method, path)
        return httpx.Response(
            answer.status,
            headers=list(answer.headers),
            content=answer.body,
            extensions={"reason_phrase": answer.reason.encode()} if answer.reason else {},
        )

    return httpx.MockTransport(handle)


@dataclass
class ReplayServer:
    """``with ReplayServer(script) as server:`` serves ``server.endpoint`` on 127.0.0.1 until closed."""

    script: Script
    requests: list[tuple[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ReplayServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                owner.requests.append((self.command, self.path))
                answer = owner.script(self.command, self.path)
                self.send_response(answer.status, answer.reason)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def sequence(*answers: Wire) -> Script:
    """Answer the requests in order, repeating the last answer."""
    queue: Iterator[Wire] = iter(answers)
    last: list[Wire] = []

    def script(method: str, path: str) -> Wire:
        answer = next(queue, None)
        if answer is not None:
            last[:] = [answer]
        return last[0]

    return script
