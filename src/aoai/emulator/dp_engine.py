"""Generation: turn a validated request into a plan (reasoning, compaction, text pieces, final
status) and play it out on a record at ``tokens_per_second``, emitting the service's stream events.

Event order for one response (``sequence_number`` counts from 0 across all of them)::

    response.created            (status "queued" for background, else "in_progress")
    response.queued             (background only)
    response.in_progress
    [compaction item]   response.output_item.added / response.output_item.done
    [reasoning item]    response.output_item.added / response.output_item.done      (reasoning models)
    [tool items, in order (see ``dp_tools``), each between response.output_item.added / .done:]
      mcp_list_tools          response.mcp_list_tools.in_progress, response.mcp_list_tools.completed
      mcp_approval_request    (nothing in between)
      mcp_call                response.mcp_call.in_progress, response.mcp_call_arguments.delta,
                              response.mcp_call_arguments.done, response.mcp_call.completed
      function_call           response.function_call_arguments.delta × N, response.function_call_arguments.done
      image_generation_call   response.image_generation_call.in_progress, .generating, .completed
                              (never streamed in practice: Azure refuses stream=true with that tool)
    [message]           response.output_item.added, response.content_part.added,
                        response.output_text.delta × N, response.output_text.done,
                        response.content_part.done, response.output_item.done
    response.completed | response.incomplete (max_output_tokens) | response.failed | error

Pacing sleeps only when the schedule is at least a few milliseconds ahead of the clock, so a very
high rate (1e9 tokens/s) emits everything in a burst, yielding to the event loop every few hundred
events; a cancelled response simply stops (no terminal event: there is none for ``cancelled``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aoai.emulator.dp_common import new_id
from aoai.emulator.dp_items import ITEM_OVERHEAD_TOKENS, compaction_item, is_user_message, item_tokens, make_opaque
from aoai.emulator.dp_store import ENCRYPTED_REASONING, ResponseRecord
from aoai.emulator.textgen import tokenize

logger = logging.getLogger(__name__)

MIN_SLEEP_S = 0.004
IMAGE_PACE_TOKENS = 64  # how long drawing an image takes, in output-token time
YIELD_EVERY = 256
QUEUE_DELAY_S = 0.02

_REASONING_RANGES = {
    "minimal": (0, 16),
    "low": (64, 160),
    "medium": (192, 448),
    "high": (768, 1536),
    "xhigh": (1536, 3072),
}


def is_reasoning_model(model_name: str) -> bool:
    name = model_name.lower()
    if name.startswith(("o1", "o3", "o4", "codex")):
        return True
    return name.startswith("gpt-5") and "chat" not in name


def reasoning_tokens(effort: str | None, seed_text: str) -> int | None:
    """Reasoning tokens for an effort level, or None when no reasoning item is produced."""
    if effort == "none":
        return None
    low, high = _REASONING_RANGES.get(effort or "medium", _REASONING_RANGES["medium"])
    digest = hashlib.sha256(seed_text.encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).randint(low, high)


@dataclass
class Plan:
    input_tokens: int
    cached_tokens: int
    text: list[str]
    reasoning: int | None  # tokens, or None for no reasoning item
    compaction: dict[str, Any] | None
    incomplete: bool
    # Emulator-only failure injection: fail after this many text deltas, with this event.
    fail_after: int | None = None
    fail_event: str = "response.failed"
    # Tool items (final state) emitted after reasoning, the output tokens they cost, and whether a
    # message follows them (not when the response ends with calls the client must answer).
    tool_items: list[dict[str, Any]] = field(default_factory=list)
    tool_tokens: int = 0
    message: bool = True


FAILURE_MESSAGE = "The server had an error while processing your request. Sorry about that!"


def make_plan(
    *,
    context: list[dict[str, Any]],
    input_tokens: int,
    cached_tokens: int,
    text: list[str],
    reasoning: int | None,
    max_output_tokens: int | None,
    compact_threshold: int | None,
    tool_items: list[dict[str, Any]] | None = None,
    tool_tokens: int = 0,
    message: bool = True,
) -> Plan:
    incomplete = False
    if not message:
        text = []
    if max_output_tokens is not None:
        used = (reasoning or 0) + tool_tokens
        if used >= max_output_tokens:
            reasoning = max_output_tokens if reasoning is not None else None
            text = []
            incomplete = True
        elif used + len(text) > max_output_tokens:
            text = text[: max_output_tokens - used]
            incomplete = True
    compaction = None
    if compact_threshold is not None and input_tokens > compact_threshold:
        compaction = compaction_for(context, input_tokens)
    return Plan(
        input_tokens,
        cached_tokens,
        text,
        reasoning,
        compaction,
        incomplete,
        tool_items=list(tool_items or []),
        tool_tokens=tool_tokens,
        message=message,
    )


def compaction_for(context: list[dict[str, Any]], input_tokens: int) -> dict[str, Any]:
    """A compaction item summarising everything in ``context`` but the user messages (kept verbatim)."""
    summarised = sum(item_tokens(item) for item in context if not is_user_message(item))
    digest = hashlib.sha256(f"{input_tokens}:{len(context)}".encode()).hexdigest()[:16]
    return compaction_item(max(summarised, ITEM_OVERHEAD_TOKENS), digest)


class _Pacer:
    """Keeps output at ``tokens_per_second`` with batched sleeps."""

    def __init__(self, record: ResponseRecord, tokens_per_second: float, flush: Any) -> None:
        self.loop = asyncio.get_running_loop()
        self.rate = tokens_per_second if tokens_per_second > 0 and math.isfinite(tokens_per_second) else math.inf
        self.record = record
        self.flush = flush
        self.restart()

    def restart(self) -> None:
        self.start = self.loop.time()
        self.tokens = 0
        self.since_yield = 0

    async def advance(self, tokens: int, events: int = 1) -> None:
        self.tokens += tokens
        self.since_yield += events
        if self.rate != math.inf:
            delay = self.start + self.tokens / self.rate - self.loop.time()
            if delay >= MIN_SLEEP_S:
                self.flush()
                await asyncio.sleep(delay)
                self.since_yield = 0
                return
        if self.since_yield >= YIELD_EVERY:
            self.flush()
            await asyncio.sleep(0)
            self.since_yield = 0

    async def pause(self, seconds: float) -> None:
        self.flush()
        await asyncio.sleep(seconds)
        self.restart()


def _usage(plan: Plan, reasoning: int, text_tokens: int, tool_tokens: int | None = None) -> dict[str, Any]:
    output = reasoning + text_tokens + (plan.tool_tokens if tool_tokens is None else tool_tokens)
    return {
        "input_tokens": plan.input_tokens,
        "input_tokens_details": {"cached_tokens": plan.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": plan.input_tokens + output,
    }


async def run(
    record: ResponseRecord,
    plan: Plan,
    *,
    tokens_per_second: float,
    first_token_delay_s: float = 0.0,
) -> None:
    """Play the plan out on the record; never raises (a crash becomes status ``failed``)."""
    try:
        await _run(record, plan, tokens_per_second, first_token_delay_s)
    except asyncio.CancelledError:
        # Cancelled through ``record.cancel`` (which already set the state) or by shutdown.
        if not record.done:
            record.status = "cancelled"
            record.finish()
    except Exception as exc:  # a bug must not leave clients waiting forever
        logger.exception("generation of %s failed", record.id)
        if not record.done:
            record.status = "failed"
            record.error = {"code": "server_error", "message": f"The emulator failed: {type(exc).__name__}"}
            record.emit("response.failed", {"response": record.render()})
            record.finish()


async def _run(record: ResponseRecord, plan: Plan, tokens_per_second: float, first_token_delay_s: float) -> None:
    live_text: list[str] = []
    message: dict[str, Any] | None = None
    text_count = 0
    reasoning_done = 0

    def flush() -> None:
        if message is not None and message["status"] == "in_progress":
            message["content"][0]["text"] = "".join(live_text[:text_count])
        record.notify()

    def on_cancel() -> None:
        # A cancelled response keeps the partial message, marked incomplete, and the usage so far
        # (none while it was still queued).
        if record.status == "queued":
            return
        if message is not None:
            message["content"][0]["text"] = "".join(live_text[:text_count])
            message["status"] = "incomplete"
        record.usage = _usage(plan, reasoning_done, text_count)

    record.on_cancel = on_cancel
    pacer = _Pacer(record, tokens_per_second, flush)

    if record.background:
        record.status = "queued"
        record.emit("response.created", {"response": record.render()})
        record.emit("response.queued", {"response": record.render()})
        await pacer.pause(QUEUE_DELAY_S)
    record.status = "in_progress"
    if not record.background:
        record.emit("response.created", {"response": record.render()})
    record.emit("response.in_progress", {"response": record.render()})
    flush()

    index = 0
    if plan.compaction is not None:
        item = plan.compaction
        record.emit("response.output_item.added", {"output_index": index, "item": dict(item)})
        record.output.append(item)
        await pacer.advance(item_tokens(item) - ITEM_OVERHEAD_TOKENS)
        record.emit("response.output_item.done", {"output_index": index, "item": dict(item)})
        index += 1

    if plan.reasoning is not None:
        reasoning: dict[str, Any] = {"id": new_id("rs"), "type": "reasoning", "summary": []}
        record.emit("response.output_item.added", {"output_index": index, "item": dict(reasoning)})
        record.output.append(reasoning)
        # Reasoning takes time before the first visible token, paced like output.
        step = max(1, plan.reasoning // 8)
        while reasoning_done < plan.reasoning:
            chunk = min(step, plan.reasoning - reasoning_done)
            reasoning_done += chunk
            await pacer.advance(chunk, events=0)
        reasoning["encrypted_content"] = make_opaque({"kind": "reasoning", "t": plan.reasoning, "id": reasoning["id"]})
        done_item = dict(reasoning)
        if ENCRYPTED_REASONING not in record.include:
            done_item.pop("encrypted_content")
        record.emit("response.output_item.done", {"output_index": index, "item": done_item})
        index += 1

    for item in plan.tool_items:
        await _emit_tool_item(record, pacer, item, index)
        index += 1

    if plan.message and (plan.text or not plan.incomplete):
        item_id = new_id("msg")
        message = {"id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
        record.emit("response.output_item.added", {"output_index": index, "item": dict(message, content=[])})
        empty_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        message["content"] = [dict(empty_part)]
        record.output.append(message)
        record.emit(
            "response.content_part.added",
            {"item_id": item_id, "output_index": index, "content_index": 0, "part": dict(empty_part)},
        )
        if first_token_delay_s > 0:
            await pacer.pause(first_token_delay_s)
        live_text.extend(plan.text)
        for piece in plan.text:
            if plan.fail_after is not None and text_count >= plan.fail_after:
                break
            text_count += 1
            record.emit(
                "response.output_text.delta",
                {"item_id": item_id, "output_index": index, "content_index": 0, "delta": piece, "logprobs": []},
            )
            await pacer.advance(1)
        if plan.fail_after is not None:
            _fail(record, plan, message, "".join(plan.text[:text_count]), plan.reasoning or 0, text_count)
            return
        text = "".join(plan.text)
        final_part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        message["content"] = [final_part]
        message["status"] = "incomplete" if plan.incomplete else "completed"
        record.emit(
            "response.output_text.done",
            {"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": []},
        )
        record.emit(
            "response.content_part.done",
            {"item_id": item_id, "output_index": index, "content_index": 0, "part": dict(final_part)},
        )
        record.emit("response.output_item.done", {"output_index": index, "item": _copy_message(message)})

    record.on_cancel = None
    record.usage = _usage(plan, plan.reasoning or 0, len(plan.text))
    if plan.incomplete:
        record.status = "incomplete"
        record.incomplete_details = {"reason": "max_output_tokens"}
        record.emit("response.incomplete", {"response": record.render()})
    else:
        record.status = "completed"
        record.completed_at = int(time.time())
        record.emit("response.completed", {"response": record.render()})
    record.finish()


def _in_progress(item: dict[str, Any]) -> dict[str, Any]:
    """How a tool item looks when ``response.output_item.added`` announces it."""
    kind = item["type"]
    if kind == "function_call":
        return {**item, "status": "in_progress", "arguments": ""}
    if kind == "mcp_list_tools":
        return {**item, "tools": []}
    if kind == "mcp_call":
        return {**item, "status": "in_progress", "arguments": "", "output": None}
    if kind == "image_generation_call":
        return {**item, "status": "in_progress", "result": None}
    return dict(item)


async def _emit_tool_item(record: ResponseRecord, pacer: _Pacer, item: dict[str, Any], index: int) -> None:
    kind = item["type"]
    item_id = item["id"]
    where = {"item_id": item_id, "output_index": index}
    live = _in_progress(item)
    record.emit("response.output_item.added", {"output_index": index, "item": dict(live)})
    record.output.append(live)
    if kind == "function_call":
        for piece in tokenize(item["arguments"]):
            record.emit("response.function_call_arguments.delta", {**where, "delta": piece})
            await pacer.advance(1)
        record.emit(
            "response.function_call_arguments.done", {**where, "name": item["name"], "arguments": item["arguments"]}
        )
    elif kind == "mcp_list_tools":
        record.emit("response.mcp_list_tools.in_progress", where)
        await pacer.advance(1, events=1)
        record.emit("response.mcp_list_tools.completed", where)
    elif kind == "mcp_call":
        record.emit("response.mcp_call.in_progress", where)
        record.emit("response.mcp_call_arguments.delta", {**where, "delta": item["arguments"]})
        record.emit("response.mcp_call_arguments.done", {**where, "arguments": item["arguments"]})
        await pacer.advance(len(tokenize(item["arguments"])))
        record.emit("response.mcp_call.completed", where)
    elif kind == "image_generation_call":
        record.emit("response.image_generation_call.in_progress", where)
        record.emit("response.image_generation_call.generating", where)
        await pacer.advance(IMAGE_PACE_TOKENS)
        record.emit("response.image_generation_call.completed", where)
    live.clear()
    live.update(item)
    record.emit("response.output_item.done", {"output_index": index, "item": dict(item)})


def _fail(
    record: ResponseRecord, plan: Plan, message: dict[str, Any], text: str, reasoning: int, text_tokens: int
) -> None:
    """End generation as failed: a ``response.failed`` event, or a bare ``error`` event."""
    record.on_cancel = None
    message["content"] = [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}]
    message["status"] = "incomplete"
    record.status = "failed"
    record.error = {"code": "server_error", "message": FAILURE_MESSAGE}
    record.usage = _usage(plan, reasoning, text_tokens)
    if plan.fail_event == "error":
        record.emit("error", {"code": "server_error", "message": FAILURE_MESSAGE, "param": None})
    else:
        record.emit("response.failed", {"response": record.render()})
    record.finish()


def _copy_message(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "content": [dict(part) for part in message["content"]]}
