"""Conformance of the emulator's Responses data plane with the official ``openai`` SDK.

The SDK is an independent client: it was generated from OpenAI's spec, not from our code. Every
answer is fetched raw (``with_raw_response`` / ``with_streaming_response``) and validated strictly
with the SDK's typed models — ``model_validate(strict=True)`` plus a recursive check that no model
anywhere holds keys it does not declare (the SDK models allow extras silently). Each stream event is
validated against the class chosen by its ``type`` from the ``ResponseStreamEvent`` union.
"""

from __future__ import annotations

import json
import time
import typing
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import openai
import pydantic
import pytest
from openai.types.responses import (
    CompactedResponse,
    Response,
    ResponseInputMessageItem,
    ResponseItemList,
    ResponseStreamEvent,
)

from aoai.emulator.server import RunningEmulator

from ..conftest import FAKE_KEY, FAKE_TOKEN


def _event_classes() -> dict[str, type[pydantic.BaseModel]]:
    union = typing.get_args(ResponseStreamEvent)[0]  # Annotated[Union[...], PropertyInfo(...)]
    classes: dict[str, type[pydantic.BaseModel]] = {}
    for cls in typing.get_args(union):
        (event_type,) = typing.get_args(cls.model_fields["type"].annotation)
        classes[event_type] = cls
    return classes


EVENT_CLASSES = _event_classes()


def _no_extra(value: Any, path: str) -> None:
    if isinstance(value, pydantic.BaseModel):
        extra = value.__pydantic_extra__ or {}
        assert not extra, f"keys unknown to the SDK at {path}: {sorted(extra)}"
        for name in type(value).model_fields:
            _no_extra(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_extra(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_extra(item, f"{path}.{key}")


M = typing.TypeVar("M", bound=pydantic.BaseModel)


def strict(model: type[M], data: Any) -> M:
    """Validate strictly and refuse any key the SDK model does not declare, at any depth."""
    assert isinstance(data, dict)
    known = {field.alias or name for name, field in model.model_fields.items()}
    assert set(data) <= known, f"unknown top-level keys for {model.__name__}: {sorted(set(data) - known)}"
    parsed = model.model_validate(data, strict=True)
    _no_extra(parsed, model.__name__)
    return parsed


def parse_sse(lines: Iterable[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    name: str | None = None
    for line in lines:
        if line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data = json.loads(line[len("data:") :])
            assert data["type"] == name, "the SSE event name must equal the JSON type"
            events.append(data)
    return events


def validate_events(events: list[dict[str, Any]]) -> list[pydantic.BaseModel]:
    parsed = []
    for event in events:
        cls = EVENT_CLASSES.get(event["type"])
        assert cls is not None, f"event type {event['type']!r} is not in the SDK's ResponseStreamEvent union"
        parsed.append(strict(cls, event))
    return parsed


@pytest.fixture
def sdk(emulator: RunningEmulator) -> Iterator[openai.OpenAI]:
    http = httpx.Client(verify=str(emulator.ca_path), timeout=30)
    client = openai.OpenAI(base_url=emulator.url + "/openai/v1", api_key=FAKE_KEY, http_client=http, max_retries=0)
    yield client
    client.close()


def _raw_json(raw: Any) -> dict[str, Any]:
    data = json.loads(raw.http_response.content)
    assert raw.http_response.headers.get("x-request-id")
    assert raw.http_response.headers.get("apim-request-id")
    return typing.cast(dict[str, Any], data)


def _stream_create(sdk: openai.OpenAI, **params: Any) -> list[dict[str, Any]]:
    with sdk.responses.with_streaming_response.create(stream=True, **params) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        return parse_sse(resp.iter_lines())


def _wait_terminal(sdk: openai.OpenAI, response_id: str) -> Response:
    deadline = time.monotonic() + 20
    while True:
        response = sdk.responses.retrieve(response_id)
        if response.status not in ("queued", "in_progress"):
            return response
        assert time.monotonic() < deadline, "background response did not finish"
        time.sleep(0.02)


# -- create ----------------------------------------------------------------------------------------


def test_create_plain_response_validates(sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(
        model="chat",
        input="Define catastrophic forgetting.",
        instructions="You are a concise assistant.",
        metadata={"ticket": "42"},
        tools=[{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}],
        tool_choice="auto",
        include=["message.output_text.logprobs"],
        temperature=0.5,
    )
    data = _raw_json(raw)
    response = strict(Response, data)
    assert response.status == "completed"
    assert response.instructions == "You are a concise assistant."
    assert response.metadata == {"ticket": "42"}
    assert response.temperature == 0.5
    assert response.tools[0].type == "function"
    assert response.usage is not None and response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert raw.parse().output_text == response.output_text != ""


def test_api_key_header_and_entra_token_are_accepted(emulator: RunningEmulator) -> None:
    # Azure's own style: the key in ``api-key`` (the SDK's bearer value is then ignored), or an Entra token.
    with httpx.Client(verify=str(emulator.ca_path), timeout=30) as http:
        for api_key, headers in (("ignored", {"api-key": FAKE_KEY}), (FAKE_TOKEN, {})):
            client = openai.OpenAI(
                base_url=emulator.url + "/openai/v1", api_key=api_key, http_client=http, default_headers=headers
            )
            raw = client.responses.with_raw_response.create(model="chat", input="hi")
            strict(Response, _raw_json(raw))


def test_reasoning_deployment_with_encrypted_reasoning(sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(
        model="reasoner",
        input="What is the weather like today?",
        reasoning={"effort": "low"},
        include=["reasoning.encrypted_content"],
        store=False,
    )
    response = strict(Response, _raw_json(raw))
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    assert response.reasoning is not None and response.reasoning.effort == "low"
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"model": "chat", "input": "Stream a short answer."}, id="plain"),
        pytest.param(
            {"model": "reasoner", "input": "Think first.", "include": ["reasoning.encrypted_content"]}, id="reasoning"
        ),
        pytest.param({"model": "chat", "input": "Write a long essay.", "max_output_tokens": 16}, id="incomplete"),
        pytest.param({"model": "chat", "input": "Queued first.", "background": True}, id="background"),
        pytest.param(
            {
                "model": "chat",
                "input": "word " * 1500,
                "context_management": [{"type": "compaction", "compact_threshold": 1000}],
            },
            id="compaction",
        ),
        pytest.param(
            {
                "model": "prod-chat",
                "input": "Weather in Paris as JSON.",
                "text": {
                    "format": {
                        "type": "json_schema",
                        "name": "weather",
                        "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
                        "strict": True,
                    }
                },
            },
            id="json-schema",
        ),
        pytest.param(
            {"model": "chat", "input": "Fail me.", "metadata": {"emulator_fail_after_tokens": "5"}}, id="failed"
        ),
        pytest.param(
            {
                "model": "chat",
                "input": "Error me.",
                "metadata": {"emulator_fail_after_tokens": "5", "emulator_fail_event": "error"},
            },
            id="error-event",
        ),
    ],
)
def test_stream_events_validate_against_sdk_classes(sdk: openai.OpenAI, params: dict[str, Any]) -> None:
    events = _stream_create(sdk, **params)
    validate_events(events)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    types = [e["type"] for e in events]
    head = (
        ["response.created", "response.queued", "response.in_progress"]
        if params.get("background")
        else [
            "response.created",
            "response.in_progress",
        ]
    )
    assert types[: len(head)] == head
    final = events[-1]
    metadata = params.get("metadata", {})
    if "emulator_fail_after_tokens" in metadata:
        assert sum(t == "response.output_text.delta" for t in types) == 5
        assert final["type"] == metadata.get("emulator_fail_event", "response.failed")
        if final["type"] == "response.failed":
            failed = strict(Response, final["response"])
            assert failed.status == "failed" and failed.error is not None and failed.error.code == "server_error"
        return
    expected_final = "response.incomplete" if "max_output_tokens" in params else "response.completed"
    assert final["type"] == expected_final
    response = strict(Response, final["response"])
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert response.output_text == deltas
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["text"] == deltas
    # every output item is announced and finished, at its index, in order
    added = [(e["output_index"], e["item"]["id"]) for e in events if e["type"] == "response.output_item.added"]
    finished = [(e["output_index"], e["item"]["id"]) for e in events if e["type"] == "response.output_item.done"]
    assert added == finished == [(i, item.id) for i, item in enumerate(response.output)]
    if "context_management" in params:
        assert response.output[0].type == "compaction"
    if "text" in params:
        assert set(json.loads(deltas)) == {"city"}


def test_sdk_stream_helper_accumulates_the_same_response(sdk: openai.OpenAI) -> None:
    with sdk.responses.stream(model="chat", input="Accumulate me.") as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert seen[0] == "response.created" and seen[-1] == "response.completed"
    assert final.status == "completed" and final.output_text
    stored = sdk.responses.with_raw_response.retrieve(final.id)
    assert strict(Response, _raw_json(stored)).output_text == final.output_text


# -- retrieve / resume -------------------------------------------------------------------------------


def test_retrieve_and_resume_background_stream(sdk: openai.OpenAI) -> None:
    params = {"model": "chat", "input": "A long story, please.", "metadata": {"emulator_output_tokens": "300"}}
    with sdk.responses.with_streaming_response.create(stream=True, background=True, **params) as resp:
        head: list[dict[str, Any]] = []
        for event in parse_sse(resp.iter_lines()):
            head.append(event)
            if len(head) == 8:
                break
    response_id = head[0]["response"]["id"]
    last = head[-1]["sequence_number"]
    with sdk.responses.with_streaming_response.retrieve(response_id, stream=True, starting_after=last) as resp:
        rest = parse_sse(resp.iter_lines())
    validate_events(rest)
    combined = head + rest
    assert [e["sequence_number"] for e in combined] == list(range(len(combined)))
    assert combined[-1]["type"] == "response.completed"
    with sdk.responses.with_streaming_response.retrieve(response_id, stream=True) as resp:
        assert parse_sse(resp.iter_lines()) == combined
    retrieved = strict(
        Response,
        _raw_json(sdk.responses.with_raw_response.retrieve(response_id, include=["message.output_text.logprobs"])),
    )
    assert retrieved.status == "completed" and retrieved.background is True
    assert retrieved.usage is not None and retrieved.usage.output_tokens == 300


# -- cancel / delete ---------------------------------------------------------------------------------


def test_cancel_background_is_idempotent(sdk: openai.OpenAI) -> None:
    created = sdk.responses.create(
        model="chat", input="Never ending.", background=True, metadata={"emulator_output_tokens": "200000"}
    )
    assert created.status == "queued"
    first = strict(Response, _raw_json(sdk.responses.with_raw_response.cancel(created.id)))
    second = strict(Response, _raw_json(sdk.responses.with_raw_response.cancel(created.id)))
    assert first.status == second.status == "cancelled"
    assert first.model_dump() == second.model_dump()
    assert sdk.responses.retrieve(created.id).status == "cancelled"


def test_cancel_of_a_finished_background_response_returns_it_unchanged(sdk: openai.OpenAI) -> None:
    created = sdk.responses.create(model="chat", input="Quick one.", background=True)
    finished = _wait_terminal(sdk, created.id)
    cancelled = strict(Response, _raw_json(sdk.responses.with_raw_response.cancel(created.id)))
    assert finished.status == cancelled.status == "completed"
    assert cancelled.output_text == finished.output_text


def test_cancel_of_a_synchronous_response_is_a_bad_request(sdk: openai.OpenAI) -> None:
    created = sdk.responses.create(model="chat", input="Synchronous.")
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.cancel(created.id)
    assert caught.value.status_code == 400
    assert "synchronous" in caught.value.message


def test_delete(sdk: openai.OpenAI) -> None:
    created = sdk.responses.create(model="chat", input="Delete me.")
    raw = sdk.responses.with_raw_response.delete(created.id)
    assert _raw_json(raw) == {"id": created.id, "object": "response.deleted", "deleted": True}
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


# -- compact ------------------------------------------------------------------------------------------


def _strict_compacted(data: dict[str, Any]) -> CompactedResponse:
    # The SDK types ``output`` as ResponseOutputItem, whose message variant is assistant-only, although
    # its own docstring (and the spec's example) says the list is "all user messages, followed by a
    # single compaction item". So user messages are validated with the SDK's input-message type, and
    # the rest of the object with CompactedResponse itself.
    users = [item for item in data["output"] if item.get("type") == "message" and item.get("role") == "user"]
    for item in users:
        strict(ResponseInputMessageItem, item)
    others = [item for item in data["output"] if item not in users]
    compacted = strict(CompactedResponse, {**data, "output": others})
    assert [item.type for item in compacted.output] == ["compaction"]
    assert data["output"][-1]["type"] == "compaction"
    return compacted


def test_compact_input_items_then_continue(sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.compact(
        model="chat",
        input=[
            {"role": "user", "content": "Create a simple landing page for a dog cafe."},
            {
                "id": "msg_001",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Here is a page. " * 200, "annotations": []}],
            },
        ],
    )
    data = _raw_json(raw)
    compacted = _strict_compacted(data)
    assert data["object"] == "response.compaction"
    assert [item["role"] for item in data["output"][:-1]] == ["user"]
    assert compacted.usage.output_tokens > 0
    follow_up = sdk.responses.with_raw_response.create(
        model="chat", input=[*data["output"], {"role": "user", "content": "Add a booking form."}]
    )
    response = strict(Response, _raw_json(follow_up))
    assert response.usage is not None and response.usage.input_tokens < compacted.usage.input_tokens


def test_compact_by_previous_response_id_and_chain_from_it(sdk: openai.OpenAI) -> None:
    initial = sdk.responses.create(model="reasoner", input="What is the size of France?")
    raw = sdk.responses.with_raw_response.compact(model="reasoner", previous_response_id=initial.id)
    compacted = _strict_compacted(_raw_json(raw))
    assert compacted.usage.output_tokens_details.reasoning_tokens > 0
    follow_up = sdk.responses.with_raw_response.create(
        model="reasoner", previous_response_id=compacted.id, input="What is the capital?"
    )
    strict(Response, _raw_json(follow_up))
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(compacted.id)


# -- input items --------------------------------------------------------------------------------------


def test_input_items_pages_and_validates(sdk: openai.OpenAI) -> None:
    first = sdk.responses.create(model="chat", input="First turn.")
    second = sdk.responses.create(
        model="chat",
        previous_response_id=first.id,
        input=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "input_text", "text": "Second turn."}]},
        ],
    )
    raw = sdk.responses.input_items.with_raw_response.list(second.id, order="asc", limit=100)
    listing = strict(ResponseItemList, _raw_json(raw))
    roles = [getattr(item, "role", None) for item in listing.data]
    assert roles == ["user", "assistant", "developer", "user"]
    assert listing.first_id == listing.data[0].id and listing.last_id == listing.data[-1].id
    assert listing.has_more is False
    # the SDK's auto-pager follows ``after`` through pages of one, newest first
    paged = [item.id for item in sdk.responses.input_items.list(second.id, limit=1)]
    assert paged == [item.id for item in reversed(listing.data)]


# -- errors -------------------------------------------------------------------------------------------


def test_errors_map_to_sdk_exceptions(sdk: openai.OpenAI, emulator: RunningEmulator) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        sdk.responses.create(model="gpt-4o", input="The model name is not a deployment name.")
    assert typing.cast(dict[str, Any], not_found.value.body)["code"] == "DeploymentNotFound"

    with pytest.raises(openai.BadRequestError) as bad:
        sdk.responses.create(model="chat", input="x", previous_response_id="resp_does_not_exist")
    assert bad.value.code == "previous_response_not_found"
    assert bad.value.param == "previous_response_id"

    wrong = sdk.with_options(api_key="not-the-key")
    with pytest.raises(openai.AuthenticationError):
        wrong.responses.create(model="chat", input="x")
