"""Stored responses: one ``ResponseRecord`` per response (its echoed parameters, status, output,
usage and, for resumable streams, the event log), kept in a ``ResponseStore`` under the emulator's lock.

All generation happens on the server's event loop, so a record is only ever mutated from that loop;
the lock guards the dictionaries, which the control API or tests may read from other threads.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from aoai.emulator.dp_common import dumps

ENCRYPTED_REASONING = "reasoning.encrypted_content"
TERMINAL = frozenset({"completed", "incomplete", "cancelled", "failed"})

# Echoed request parameters, in the order the service lists them in a response object.
ECHO_ORDER = (
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "model",
    "output",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "usage",
    "user",
    "metadata",
)


@dataclass
class ResponseRecord:
    id: str
    created_at: int
    deployment: str
    model: str
    echo: dict[str, Any]
    background: bool
    stream: bool
    store: bool
    include: list[str]
    context: list[dict[str, Any]]
    kind: Literal["response", "compaction"] = "response"
    status: str = "in_progress"
    output: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    completed_at: int | None = None
    # Event log (only kept when the response was created with stream=true): (type, SSE frame bytes).
    events: list[tuple[str, bytes]] = field(default_factory=list)
    keep_events: bool = False
    next_sequence: int = 0
    done: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    # Set by the generator: finalises a partial output when the response is cancelled mid-way.
    on_cancel: Any = None

    # -- events --------------------------------------------------------------------------------
    def emit(self, event_type: str, payload: dict[str, Any]) -> None:
        sequence = self.next_sequence
        self.next_sequence += 1
        if self.keep_events:
            data = {"type": event_type, "sequence_number": sequence, **payload}
            self.events.append((event_type, f"event: {event_type}\ndata: {dumps(data)}\n\n".encode()))

    def notify(self) -> None:
        """Wake every stream tailing this record."""
        old, self.changed = self.changed, asyncio.Event()
        old.set()

    def finish(self) -> None:
        self.done = True
        self.notify()

    # -- lifecycle -----------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop generation; the record keeps what was produced so far, with status ``cancelled``."""
        if self.done:
            return
        if callable(self.on_cancel):
            self.on_cancel()
        self.status = "cancelled"
        self.completed_at = None
        self.finish()
        if self.task is not None and not self.task.done():
            self.task.cancel()

    # -- rendering -----------------------------------------------------------------------------
    def render(self, include: list[str] | None = None) -> dict[str, Any]:
        """The response object as the service returns it (a deep copy; safe to serialise later)."""
        wanted = set(self.include) | set(include or ())
        output = []
        for item in self.output:
            copied = copy.deepcopy(item)
            if copied.get("type") == "reasoning" and ENCRYPTED_REASONING not in wanted:
                copied.pop("encrypted_content", None)
            output.append(copied)
        body: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": self.status,
            "background": self.background,
            "completed_at": self.completed_at,
            "error": copy.deepcopy(self.error),
            "incomplete_details": copy.deepcopy(self.incomplete_details),
        }
        for key in ECHO_ORDER:
            if key == "model":
                body["model"] = self.model
            elif key == "output":
                body["output"] = output
            elif key == "usage":
                body["usage"] = copy.deepcopy(self.usage)
            elif key in self.echo:
                body[key] = copy.deepcopy(self.echo[key])
        return body


class ResponseStore:
    """Stored responses by id (including ``/responses/compact`` results, usable as previous ids)."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._responses: dict[str, ResponseRecord] = {}

    def get(self, response_id: str) -> ResponseRecord | None:
        with self._lock:
            return self._responses.get(response_id)

    def put(self, record: ResponseRecord) -> None:
        with self._lock:
            self._responses[record.id] = record

    def delete(self, response_id: str) -> ResponseRecord | None:
        with self._lock:
            return self._responses.pop(response_id, None)

    def find_item(self, item_id: str) -> dict[str, Any] | None:
        """A stored item (input or output of any stored response) by id, for ``item_reference``."""
        with self._lock:
            records = list(self._responses.values())
        for record in reversed(records):
            for item in (*record.output, *record.context):
                if item.get("id") == item_id:
                    return copy.deepcopy(item)
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._responses)
