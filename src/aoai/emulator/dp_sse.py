"""Server-sent events: tail a record's event log to one client, with stream faults applied.

The stream replays the log after ``starting_after`` and then follows it live until the record is
done. Frames are ``event: <type>\\ndata: <json>\\n\\n``; bursts are coalesced into chunks of up to
64 KiB so a fast producer costs few writes.

A ``cut_after_events`` fault ends the body after that many events of this connection: mode
``abort`` returns without finishing the chunked body, so uvicorn closes the socket and the client
sees a truncated body (a dropped connection); mode ``eof`` ends the body cleanly with no terminal
event. The intentional abort is kept out of uvicorn's error log by a filter keyed on a context
variable set only for that request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from aoai.emulator.dp_common import request_id_headers
from aoai.emulator.dp_store import ResponseRecord

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CHUNK_BYTES = 64 * 1024
FIRST_TOKEN_EVENT = "response.output_text.delta"

_ABORTING: ContextVar[bool] = ContextVar("aoai_emulator_sse_abort", default=False)
_UVICORN_INCOMPLETE = "ASGI callable returned without completing response"


class _IntentionalAbortFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_ABORTING.get() and record.getMessage().startswith(_UVICORN_INCOMPLETE))


def install_abort_filter() -> None:
    uvicorn_logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _IntentionalAbortFilter) for f in uvicorn_logger.filters):
        uvicorn_logger.addFilter(_IntentionalAbortFilter())


class EventStream:
    """An ASGI response streaming ``record``'s events after ``starting_after``.

    ``release_log`` drops the record's event log when this stream ends (for foreground streams,
    whose log no one else can read); ``on_disconnect`` runs when the client goes away first.
    """

    def __init__(
        self,
        record: ResponseRecord,
        *,
        starting_after: int = -1,
        cut_after_events: int | None = None,
        cut_mode: str = "abort",
        first_token_delay_s: float = 0.0,
        on_disconnect: Callable[[], None] | None = None,
        release_log: bool = False,
    ) -> None:
        self.record = record
        self.starting_after = starting_after
        self.cut_after_events = cut_after_events
        self.cut_mode = cut_mode
        self.first_token_delay_s = first_token_delay_s
        self.on_disconnect = on_disconnect
        self.release_log = release_log
        self.disconnected = False

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            **request_id_headers(),
        }
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
            }
        )
        watcher = asyncio.create_task(self._watch(receive))
        try:
            finished = await self._pump(send)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if self.release_log:
                # Nobody can read this log again (a foreground stream is not resumable): free it.
                self.record.keep_events = False
                self.record.events = []
        if self.disconnected:
            if self.on_disconnect is not None:
                self.on_disconnect()
            return
        if finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            _ABORTING.set(True)  # return mid-body: uvicorn drops the connection

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                self.record.notify()
                return

    async def _send_frames(self, send: Send, frames: list[bytes]) -> None:
        chunk: list[bytes] = []
        size = 0
        for frame in frames:
            chunk.append(frame)
            size += len(frame)
            if size >= CHUNK_BYTES:
                await send({"type": "http.response.body", "body": b"".join(chunk), "more_body": True})
                chunk, size = [], 0
        if chunk:
            await send({"type": "http.response.body", "body": b"".join(chunk), "more_body": True})

    async def _pump(self, send: Send) -> bool:
        """Send events until the record is done (True), or the stream is cut/abandoned (False)."""
        record = self.record
        position = max(self.starting_after + 1, 0)
        sent = 0
        delay_pending = self.first_token_delay_s > 0
        cut = self.cut_after_events
        while True:
            waiter = record.changed
            if self.disconnected:
                return False
            pending = record.events[position:]
            if pending:
                if cut is not None:
                    pending = pending[: max(cut - sent, 0)]
                if delay_pending:
                    first = next((i for i, (kind, _) in enumerate(pending) if kind == FIRST_TOKEN_EVENT), None)
                    if first is not None:
                        await self._send_frames(send, [frame for _, frame in pending[:first]])
                        sent += first
                        position += first
                        delay_pending = False
                        await asyncio.sleep(self.first_token_delay_s)
                        continue
                await self._send_frames(send, [frame for _, frame in pending])
                sent += len(pending)
                position += len(pending)
                if cut is not None and sent >= cut:
                    return self.cut_mode == "eof"
                continue
            if cut is not None and sent >= cut:
                return self.cut_mode == "eof"
            if record.done:
                return True
            await waiter.wait()
