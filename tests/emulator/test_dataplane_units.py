"""Unit tests of the data plane's pure parts: text generation, items, pacing plan, the abort filter."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aoai.emulator import dp_engine, dp_items, dp_sse, textgen
from aoai.emulator.dp_common import ApiError


@given(st.text())
def test_tokenize_round_trips_any_text(text: str) -> None:
    pieces = textgen.tokenize(text)
    assert "".join(pieces) == text
    assert textgen.count_tokens(text) == len(pieces)


def test_generate_is_deterministic_and_sized() -> None:
    a = textgen.generate("Define catastrophic forgetting.")
    assert a == textgen.generate("Define catastrophic forgetting.")
    assert a != textgen.generate("Define catastrophic forgetting.", context="an earlier turn")
    assert a != textgen.generate("Define catastrophic forgetting.", instructions="Be formal.")
    assert 20 < len(a) < 200
    assert len(textgen.generate("anything", exact_tokens=12345)) == 12345
    assert textgen.generate("anything", exact_tokens=0) == []
    long = textgen.generate("Write a very long story about ships.")
    assert len(long) > len(textgen.generate("Write about ships briefly."))


def test_generate_json_follows_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temp": {"type": "number"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "unit": {"type": "string", "enum": ["C", "F"]},
        },
    }
    document = json.loads("".join(textgen.generate("Weather in Paris", json_schema=schema)))
    assert set(document) == {"city", "temp", "ok", "tags", "unit"}
    assert isinstance(document["temp"], float) and isinstance(document["ok"], bool)
    assert document["unit"] == "C" and len(document["tags"]) == 2
    assert set(json.loads("".join(textgen.generate("x", json_mode=True)))) == {"answer"}


def _no_items(_: str) -> dict[str, Any] | None:
    return None


def test_normalize_input_shapes() -> None:
    items = dp_items.normalize_input(
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "rules"}]},
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
        ],
        _no_items,
    )
    assert items[0]["content"] == [{"type": "input_text", "text": "hi"}] and items[0]["id"].startswith("msg_")
    assert items[1]["content"] == [{"type": "output_text", "text": "hello", "annotations": [], "logprobs": []}]
    assert items[2]["role"] == "system" and items[2]["status"] == "completed"
    assert items[3]["id"].startswith("fco_") and items[3]["output"] == "42"
    assert dp_items.normalize_input("plain", _no_items)[0]["role"] == "user"


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ({"role": "user"}, "input"),
        ([{"role": "user"}], "input[0].content"),
        ([{"role": "user", "content": [{"type": "output_text", "text": "x"}]}], "input[0].content[0].type"),
        ([{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}], "input[0].content[0].type"),
        ([{"type": "compaction"}], "input[0].encrypted_content"),
        ([{"type": "item_reference", "id": "msg_x"}], "input[0].id"),
    ],
)
def test_normalize_input_rejects(value: Any, param: str) -> None:
    with pytest.raises(ApiError) as caught:
        dp_items.normalize_input(value, _no_items)
    assert caught.value.body["error"]["param"] == param


def test_opaque_payloads_round_trip_and_are_not_readable() -> None:
    item = dp_items.compaction_item(5000, "abc")
    blob = item["encrypted_content"]
    assert "5000" not in blob and "compaction" not in blob
    assert dp_items.read_opaque(blob) == {"kind": "compaction", "t": 500, "of": 5000, "d": "abc"}
    assert dp_items.item_tokens(item) == 500 + dp_items.ITEM_OVERHEAD_TOKENS
    assert dp_items.read_opaque("gAAAAABnot-ours") is None
    assert dp_items.read_opaque(42) is None


def test_prune_keeps_user_messages_and_everything_after_the_latest_compaction() -> None:
    user1, user2 = dp_items.user_message("one"), dp_items.user_message("two")
    assistant = {"id": "msg_a", "type": "message", "role": "assistant", "status": "completed", "content": []}
    old, new = dp_items.compaction_item(100, "a"), dp_items.compaction_item(200, "b")
    context = [user1, assistant, old, user2, assistant, new, assistant]
    assert dp_items.prune(context) == [user1, user2, new, assistant]
    assert dp_items.prune([user1, assistant]) == [user1, assistant]


def test_plan_budget_and_compaction() -> None:
    text = textgen.generate("x", exact_tokens=100)
    plan = dp_engine.make_plan(
        context=[],
        input_tokens=10,
        cached_tokens=0,
        text=text,
        reasoning=50,
        max_output_tokens=80,
        compact_threshold=None,
    )
    assert (plan.reasoning, len(plan.text), plan.incomplete, plan.compaction) == (50, 30, True, None)
    plan = dp_engine.make_plan(
        context=[dp_items.user_message("x")],
        input_tokens=2000,
        cached_tokens=0,
        text=text,
        reasoning=None,
        max_output_tokens=None,
        compact_threshold=1000,
    )
    assert plan.compaction is not None and not plan.incomplete and len(plan.text) == 100


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [("gpt-5-mini", True), ("o3", True), ("gpt-5-chat", False), ("gpt-4.1", False), ("gpt-4o", False)],
)
def test_reasoning_models(model: str, reasoning: bool) -> None:
    assert dp_engine.is_reasoning_model(model) is reasoning


def test_abort_filter_hides_only_the_intentional_abort() -> None:
    dp_sse.install_abort_filter()
    dp_sse.install_abort_filter()  # idempotent
    filters = [f for f in logging.getLogger("uvicorn.error").filters if isinstance(f, dp_sse._IntentionalAbortFilter)]
    assert len(filters) == 1
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, dp_sse._UVICORN_INCOMPLETE + ".", (), None)
    assert filters[0].filter(record) is True  # not aborting: a real bug stays visible
    token = dp_sse._ABORTING.set(True)
    try:
        assert filters[0].filter(record) is False
        other = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", (), None
        )
        assert filters[0].filter(other) is True
    finally:
        dp_sse._ABORTING.reset(token)
