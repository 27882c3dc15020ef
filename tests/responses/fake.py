"""A scripted Responses API behind ``httpx.MockTransport``: the unit-test seam for the client.

``FakeService`` keeps responses and their event logs, answers create (plain / stream),
retrieve (plain / ``stream=true&starting_after=N``), cancel, delete, compact and input_items,
and can cut a stream after N events (abort: the body raises mid-way; eof: it just ends), fail
the next requests with a status, or replay too much after a reconnect.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "https://unit.openai.azure.com/openai/v1"
WORDS = "The quick brown fox jumps over the lazy dog while the stream keeps flowing steadily onwards".split()  # noqa: SIM905


def make_events(
    response_id: str, pieces: list[str], *, background: bool, model: str = "gpt-4.1"
) -> list[dict[str, Any]]:
    """The event log of one text response, with sequence numbers from 0."""
    base = {
        "id": response_id,
        "object": "response",
        "created_at": 1_700_000_000,
        "model": model,
        "background": background,
        "output": [],
        "usage": None,
    }
    text = "".join(pieces)
    item_id = "msg_1"
    done_response = {
        **base,
        "status": "completed",
        "output": [
            {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 3, "output_tokens": len(pieces), "total_tokens": 3 + len(pieces)},
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**base, "status": "queued" if background else "in_progress"}},
        {"type": "response.in_progress", "response": {**base, "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": {"id": item_id, "type": "message"}},
        {"type": "response.content_part.added", "item_id": item_id, "output_index": 0, "content_index": 0},
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
            }
        )
    events += [
        {"type": "response.output_text.done", "item_id": item_id, "output_index": 0, "content_index": 0, "text": text},
        {"type": "response.output_item.done", "output_index": 0, "item": done_response["output"][0]},
        {"type": "response.completed", "response": done_response},
    ]
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
    return events


def sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode() for e in events)


class CutStream(httpx.SyncByteStream):
    """A body that delivers some bytes, then either raises (abort) or ends (eof)."""

    def __init__(self, data: bytes, *, abort: bool) -> None:
        self._data = data
        self._abort = abort

    def __iter__(self) -> Iterator[bytes]:
        # Deliver in small chunks, as a network would.
        for start in range(0, len(self._data), 97):
            yield self._data[start : start + 97]
        if self._abort:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


@dataclass
class Cut:
    after_events: int
    mode: str = "abort"  # or "eof"


@dataclass
class FakeService:
    pieces: list[str] = field(default_factory=lambda: [w + " " for w in WORDS])
    create_cuts: list[Cut] = field(default_factory=list)
    retrieve_cuts: list[Cut] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (status, headers)
    overlap_on_resume: int = 0  # replay this many already-sent events again on resume
    resume_starts_with_completed: bool = False
    status_override: str | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counter: int = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def new_id(self) -> str:
        self.counter += 1
        return f"resp_{self.counter:04d}"

    def _stream(self, events: list[dict[str, Any]], cut: Cut | None) -> httpx.Response:
        headers = {"content-type": "text/event-stream", "apim-request-id": "req-stream"}
        if cut is None:
            return httpx.Response(200, headers=headers, content=sse(events))
        return httpx.Response(
            200, headers=headers, stream=CutStream(sse(events[: cut.after_events]), abort=cut.mode == "abort")
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_next:
            status, headers = self.fail_next.pop(0)
            body = {"error": {"code": str(status), "message": f"failure {status}"}}
            return httpx.Response(status, json=body, headers={"apim-request-id": f"req-{status}", **headers})
        path = request.url.path.removeprefix("/openai/v1")
        if request.method == "POST" and path == "/responses":
            body = json.loads(request.content)
            rid = self.new_id()
            events = make_events(rid, self.pieces, background=bool(body.get("background")), model=body["model"])
            self.logs[rid] = events
            if body.get("stream"):
                return self._stream(events, self.create_cuts.pop(0) if self.create_cuts else None)
            final = events[-1]["response"]
            if body.get("background"):
                return httpx.Response(200, json={**events[0]["response"]})
            return httpx.Response(200, json=final, headers={"x-request-id": "req-create"})
        if request.method == "POST" and path == "/responses/compact":
            return httpx.Response(
                200,
                json={
                    "id": "resp_cmp",
                    "object": "response.compaction",
                    "output": [{"type": "compaction", "id": "cmp_1", "encrypted_content": "xyz"}],
                    "created_at": 1,
                    "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12},
                },
            )
        parts = path.strip("/").split("/")
        rid = parts[1] if len(parts) > 1 else ""
        if rid not in self.logs:
            return httpx.Response(404, json={"error": {"code": None, "message": f"Response {rid} not found"}})
        events = self.logs[rid]
        final = dict(events[-1]["response"])
        if self.status_override:
            final["status"] = self.status_override
        if request.method == "GET" and len(parts) == 2:
            if request.url.params.get("stream") == "true":
                after = request.url.params.get("starting_after")
                start = int(after) + 1 if after is not None else 0
                start = max(0, start - self.overlap_on_resume)
                remaining = events[start:]
                if self.resume_starts_with_completed:
                    remaining = [e for e in remaining if e["type"] == "response.completed"]
                return self._stream(remaining, self.retrieve_cuts.pop(0) if self.retrieve_cuts else None)
            return httpx.Response(200, json=final)
        if request.method == "POST" and parts[-1] == "cancel":
            return httpx.Response(200, json={**final, "status": "cancelled"})
        if request.method == "DELETE":
            del self.logs[rid]
            return httpx.Response(200, json={"id": rid, "object": "response.deleted", "deleted": True})
        if request.method == "GET" and parts[-1] == "input_items":
            items = [
                {
                    "id": f"msg_{i}",
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": f"t{i}"}],
                }
                for i in range(5)
            ]
            limit = int(request.url.params.get("limit", "20"))
            after = request.url.params.get("after")
            start = next((i + 1 for i, item in enumerate(items) if item["id"] == after), 0)
            page = items[start : start + limit]
            return httpx.Response(
                200,
                json={
                    "object": "list",
                    "data": page,
                    "first_id": page[0]["id"] if page else None,
                    "last_id": page[-1]["id"] if page else None,
                    "has_more": start + limit < len(items),
                },
            )
        return httpx.Response(405, json={"error": {"code": "405", "message": "no such route"}})


@dataclass
class FakeAuth:
    """A header source (as ``auth.DataPlaneAuth``) with a recognisable secret."""

    mode: str = "key"
    description: str = "api-key from AZURE_OPENAI_API_KEY"
    scope: str | None = None
    secret: str = "unit-SECRET-key-123456"

    def headers(self) -> dict[str, str]:
        if self.mode == "key":
            return {"api-key": self.secret}
        return {"Authorization": f"Bearer {self.secret}"}
