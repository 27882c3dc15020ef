"""Conformance of the emulator's tool items, attachments and stateless chaining with the ``openai`` SDK.

Every answer is validated strictly with the SDK's typed models (``Response``, ``ResponseItemList``)
and every stream event with the class its ``type`` selects, as in ``test_conformance_openai``; the
tests then check the behaviour: function calls and their follow-ups, MCP listing / approval /
calls, image generation (a real PNG, no streaming on Azure), input images and files (validation and
token costs), and encrypted reasoning carried across ``store=false`` turns.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import jsonschema
import openai
import pytest
from openai.types.responses import Response, ResponseItemList

from aoai.emulator import dp_engine
from aoai.emulator.dp_store import ResponseRecord
from aoai.emulator.server import RunningEmulator

from .test_conformance_openai import _raw_json, parse_sse, sdk, strict, validate_events

__all__ = ["sdk"]  # the fixture, re-used

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
        },
        "required": ["location", "unit", "days"],
        "additionalProperties": False,
    },
}
CLOCK = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
MCP_SECRET = "mcp-SECRET-header-value-91c2"
IMAGE_HEADER = {"x-ms-oai-image-generation-deployment": "gpt-image-1"}


def _png(width: int = 1, height: int = 1) -> bytes:
    """A tiny valid grey PNG, built here independently of the emulator's own PNG writer."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type /Catalog /Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type /Pages /Kids [3 0 R 4 0 R] /Count 2>>endobj\n"
    b"3 0 obj<</Type /Page /Parent 2 0 R>>endobj\n4 0 obj<</Type /Page /Parent 2 0 R>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _create(sdk: openai.OpenAI, **params: Any) -> tuple[Response, dict[str, Any]]:
    data = _raw_json(sdk.responses.with_raw_response.create(**params))
    return strict(Response, data), data


def _validate(events: list[dict[str, Any]]) -> None:
    """``validate_events``, except for one field where the SDK lags the spec: the OpenAPI spec (2.3.0)
    requires ``name`` on ``response.function_call_arguments.done``; the SDK's model does not declare it."""
    for event in events:
        if event["type"] == "response.function_call_arguments.done":
            assert isinstance(event["name"], str) and event["name"]
    validate_events(
        [
            {k: v for k, v in e.items() if k != "name"} if e["type"] == "response.function_call_arguments.done" else e
            for e in events
        ]
    )


def _stream(sdk: openai.OpenAI, **params: Any) -> list[dict[str, Any]]:
    with sdk.responses.with_streaming_response.create(stream=True, **params) as resp:
        events = parse_sse(resp.iter_lines())
    _validate(events)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def _bad_request(sdk: openai.OpenAI, **params: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(**params)
    return caught.value


def _listing(sdk: openai.OpenAI, response_id: str, **params: Any) -> ResponseItemList:
    raw = sdk.responses.input_items.with_raw_response.list(response_id, order="asc", limit=100, **params)
    return strict(ResponseItemList, _raw_json(raw))


# -- function calls --------------------------------------------------------------------------------


def test_function_call_when_the_input_names_the_tool(sdk: openai.OpenAI) -> None:
    response, _ = _create(sdk, model="chat", input="What's the weather in Paris? Use get_weather.", tools=[WEATHER])
    assert response.status == "completed"
    assert [item.type for item in response.output] == ["function_call"]
    call = response.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.status == "completed"
    assert call.call_id.startswith("call_") and call.id is not None and call.id.startswith("fc_")
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, WEATHER["parameters"])
    assert arguments["location"] == "Paris" and arguments["unit"] == "celsius"
    assert response.output_text == ""
    assert response.usage is not None and response.usage.output_tokens > 0
    # deterministic: the same question gives the same arguments
    again, _ = _create(sdk, model="chat", input="What's the weather in Paris? Use get_weather.", tools=[WEATHER])
    assert again.output[0].type == "function_call" and again.output[0].arguments == call.arguments


def test_no_call_when_the_input_does_not_ask_for_it(sdk: openai.OpenAI) -> None:
    response, _ = _create(sdk, model="chat", input="Tell me a fact about otters.", tools=[WEATHER])
    assert [item.type for item in response.output] == ["message"]
    none, _ = _create(sdk, model="chat", input="Use get_weather.", tools=[WEATHER], tool_choice="none")
    assert [item.type for item in none.output] == ["message"]


def test_tool_choice_forces_and_parallel_calls_can_be_turned_off(sdk: openai.OpenAI) -> None:
    forced, _ = _create(
        sdk,
        model="chat",
        input="No tool named here.",
        tools=[WEATHER, CLOCK],
        tool_choice={"type": "function", "name": "get_time"},
    )
    assert [(i.type, getattr(i, "name", None)) for i in forced.output] == [("function_call", "get_time")]
    required, _ = _create(sdk, model="chat", input="Anything.", tools=[WEATHER, CLOCK], tool_choice="required")
    assert [getattr(i, "name", None) for i in required.output] == ["get_weather"]
    both = "Call get_weather and get_time."
    parallel, _ = _create(sdk, model="chat", input=both, tools=[WEATHER, CLOCK])
    assert [getattr(i, "name", None) for i in parallel.output] == ["get_weather", "get_time"]
    assert len({i.call_id for i in parallel.output if i.type == "function_call"}) == 2
    single, _ = _create(sdk, model="chat", input=both, tools=[WEATHER, CLOCK], parallel_tool_calls=False)
    assert [getattr(i, "name", None) for i in single.output] == ["get_weather"]
    error = _bad_request(
        sdk, model="chat", input="x", tools=[WEATHER], tool_choice={"type": "function", "name": "nope"}
    )
    assert error.param == "tool_choice"


def test_streamed_function_call_events(sdk: openai.OpenAI) -> None:
    events = _stream(sdk, model="reasoner", input="Use get_weather for Oslo.", tools=[WEATHER])
    types = [e["type"] for e in events]
    assert "response.output_text.delta" not in types
    final = strict(Response, events[-1]["response"])
    assert events[-1]["type"] == "response.completed"
    assert [item.type for item in final.output] == ["reasoning", "function_call"]
    call = final.output[1]
    assert call.type == "function_call"
    added = next(e for e in events if e["type"] == "response.output_item.added" and e["output_index"] == 1)
    assert added["item"]["status"] == "in_progress" and added["item"]["arguments"] == ""
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert all(e["item_id"] == call.id and e["output_index"] == 1 for e in deltas)
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert "".join(e["delta"] for e in deltas) == done["arguments"] == call.arguments
    assert done["name"] == "get_weather"
    assert final.usage is not None
    assert final.usage.output_tokens == final.usage.output_tokens_details.reasoning_tokens + len(deltas)


def test_function_call_output_follow_up_by_previous_response_id(sdk: openai.OpenAI) -> None:
    first, _ = _create(sdk, model="chat", input="Use get_weather for Lisbon.", tools=[WEATHER])
    call = first.output[0]
    assert call.type == "function_call"
    result = json.dumps({"temperature": 23, "sky": "clear"})
    second, _ = _create(
        sdk,
        model="chat",
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": result}],
    )
    assert [item.type for item in second.output] == ["message"]
    assert second.output_text.startswith(f"Based on the result of get_weather: {result}.")
    listing = _listing(sdk, second.id)
    assert [item.type for item in listing.data] == ["message", "function_call", "function_call_output"]
    output_item = listing.data[2]
    assert output_item.type == "function_call_output" and output_item.call_id == call.call_id
    assert output_item.status == "completed"


def test_function_call_output_follow_up_stateless(sdk: openai.OpenAI) -> None:
    question = {"role": "user", "content": "Use get_weather for Rome."}
    first, data = _create(sdk, model="chat", input=[question], tools=[WEATHER], store=False)
    call = first.output[0]
    assert call.type == "function_call"
    second, _ = _create(
        sdk,
        model="chat",
        store=False,
        tools=[WEATHER],
        input=[
            question,
            *data["output"],
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert second.output_text.startswith("Based on the result of get_weather: sunny.")


def test_tool_results_must_match_calls(sdk: openai.OpenAI) -> None:
    orphan = _bad_request(
        sdk, model="chat", input=[{"type": "function_call_output", "call_id": "call_unknown", "output": "x"}]
    )
    assert "No tool call found for function call output with call_id call_unknown" in orphan.message
    first, _ = _create(sdk, model="chat", input="Use get_weather for Bern.", tools=[WEATHER])
    call = first.output[0]
    assert call.type == "function_call"
    unanswered = _bad_request(sdk, model="chat", previous_response_id=first.id, input="And tomorrow?")
    assert f"No tool output found for function call {call.call_id}" in unanswered.message


# -- MCP ---------------------------------------------------------------------------------------------


@pytest.fixture
def unreachable_mcp() -> Iterator[tuple[str, socket.socket]]:
    """An https URL on a loopback port we listen on, to prove the emulator never connects to it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/mcp", listener
    listener.close()


def _assert_never_contacted(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        listener.accept()


def _mcp(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "docs", "server_url": url, **extra}


def test_mcp_without_approval_lists_calls_and_answers(
    sdk: openai.OpenAI, unreachable_mcp: tuple[str, socket.socket]
) -> None:
    url, listener = unreachable_mcp
    tool = _mcp(url, require_approval="never", headers={"Authorization": f"Bearer {MCP_SECRET}"})
    events = _stream(sdk, model="chat", input="Search docs for the retry policy.", tools=[tool])
    final = strict(Response, events[-1]["response"])
    assert [item.type for item in final.output] == ["mcp_list_tools", "mcp_call", "message"]
    listed, call = final.output[0], final.output[1]
    assert listed.type == "mcp_list_tools" and [t.name for t in listed.tools] == ["search", "fetch"]
    assert call.type == "mcp_call" and call.name == "search" and call.server_label == "docs"
    assert call.output and call.status == "completed" and call.approval_request_id is None
    assert json.loads(call.arguments) == {"query": "Search docs for the retry policy."}
    assert final.output_text.startswith("According to docs:")
    types = [e["type"] for e in events]
    for expected in (
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_call.in_progress",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.completed",
    ):
        assert expected in types
    assert types.index("response.mcp_list_tools.completed") < types.index("response.mcp_call.in_progress")
    # the header value is never echoed back
    assert MCP_SECRET not in json.dumps(events)
    assert final.tools[0].type == "mcp" and final.tools[0].headers is None
    _assert_never_contacted(listener)


def test_mcp_approval_request_then_approve(sdk: openai.OpenAI, unreachable_mcp: tuple[str, socket.socket]) -> None:
    url, listener = unreachable_mcp
    tool = _mcp(url)  # require_approval defaults to "always"
    first, _ = _create(sdk, model="chat", input="Use docs to fetch the changelog.", tools=[tool])
    assert [item.type for item in first.output] == ["mcp_list_tools", "mcp_approval_request"]
    request = first.output[1]
    assert request.type == "mcp_approval_request" and request.name == "fetch" and request.server_label == "docs"
    assert request.id.startswith("mcpr_") and json.loads(request.arguments)["id"].startswith("doc-")
    assert first.tools[0].type == "mcp" and first.tools[0].require_approval == "always"
    second, _ = _create(
        sdk,
        model="chat",
        previous_response_id=first.id,
        tools=[tool],
        input=[{"type": "mcp_approval_response", "approve": True, "approval_request_id": request.id}],
    )
    assert [item.type for item in second.output] == ["mcp_call", "message"]  # already listed: no new listing
    call = second.output[0]
    assert call.type == "mcp_call" and call.approval_request_id == request.id and call.arguments == request.arguments
    assert second.output_text.startswith("According to docs:")
    listing = _listing(sdk, second.id)
    assert [item.type for item in listing.data][-1] == "mcp_approval_response"
    _assert_never_contacted(listener)


def test_mcp_approval_denied(sdk: openai.OpenAI, unreachable_mcp: tuple[str, socket.socket]) -> None:
    url, _ = unreachable_mcp
    tool = _mcp(url, require_approval={"never": {"tool_names": ["fetch"]}})
    first, _ = _create(sdk, model="chat", input="Search the docs.", tools=[tool])
    request = first.output[-1]
    assert request.type == "mcp_approval_request" and request.name == "search"
    denied, _ = _create(
        sdk,
        model="chat",
        previous_response_id=first.id,
        tools=[tool],
        input=[{"type": "mcp_approval_response", "approve": False, "approval_request_id": request.id}],
    )
    assert [item.type for item in denied.output] == ["message"]
    assert denied.output_text.startswith("The call to search on docs was not approved")


def test_mcp_validation(sdk: openai.OpenAI) -> None:
    plain = _bad_request(sdk, model="chat", input="x", tools=[_mcp("http://example.com/mcp")])
    assert plain.param == "tools[0].server_url"
    bad_mode = _bad_request(sdk, model="chat", input="x", tools=[_mcp("https://example.com", require_approval="ask")])
    assert bad_mode.param == "tools[0].require_approval"
    twice = _bad_request(sdk, model="chat", input="x", tools=[_mcp("https://a.example"), _mcp("https://b.example")])
    assert twice.param == "tools[1].server_label"
    unknown = _bad_request(
        sdk,
        model="chat",
        input=[{"type": "mcp_approval_response", "approve": True, "approval_request_id": "mcpr_nope"}],
        tools=[_mcp("https://example.com")],
    )
    assert "No approval request found" in unknown.message


# -- image generation ----------------------------------------------------------------------------------


def _png_header(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_image_generation_returns_a_png(sdk: openai.OpenAI) -> None:
    client = sdk.with_options(default_headers=IMAGE_HEADER)
    params: dict[str, Any] = {
        "model": "chat",
        "input": "Generate a picture of an otter in a scarf.",
        "tools": [{"type": "image_generation", "size": "1536x1024", "quality": "low"}],
    }
    response, _ = _create(client, **params)
    assert [item.type for item in response.output] == ["image_generation_call", "message"]
    call = response.output[0]
    assert call.type == "image_generation_call" and call.status == "completed" and call.result
    png = base64.b64decode(call.result)
    assert _png_header(png) == (96, 64)  # 1/16 of the nominal size
    assert zlib.decompress(png[png.index(b"IDAT") + 4 : -16])  # the pixel data inflates
    assert call.size == "1536x1024" and call.output_format == "png" and call.quality == "low"
    assert response.output_text.startswith("Here is the image I generated:")
    echoed = response.tools[0]
    assert echoed.type == "image_generation" and echoed.partial_images == 0
    again, _ = _create(client, **params)
    assert again.output[0].type == "image_generation_call" and again.output[0].result == call.result


def test_image_generation_needs_the_header_an_image_deployment_and_no_streaming(sdk: openai.OpenAI) -> None:
    params: dict[str, Any] = {"model": "chat", "input": "Draw a cat.", "tools": [{"type": "image_generation"}]}
    missing = _bad_request(sdk, **params)
    assert "x-ms-oai-image-generation-deployment" in missing.message
    chat = _bad_request(sdk.with_options(default_headers={"x-ms-oai-image-generation-deployment": "chat"}), **params)
    assert "cannot generate images" in chat.message
    streamed = _bad_request(sdk.with_options(default_headers=IMAGE_HEADER), stream=True, **params)
    assert streamed.param == "stream"


def test_image_generation_events_validate(emulator: RunningEmulator) -> None:
    # Azure refuses to stream this tool, so its events are checked on the engine directly.
    from aoai.emulator import dp_tools

    tools = dp_tools.normalize_tools([{"type": "image_generation"}])
    tool_plan = dp_tools.plan(tools, "auto", True, new_items=[], context=[], prompt="Draw an otter.")
    plan = dp_engine.make_plan(
        context=[],
        input_tokens=10,
        cached_tokens=0,
        text=["Done", "."],
        reasoning=None,
        max_output_tokens=None,
        compact_threshold=None,
        tool_items=tool_plan.items,
        tool_tokens=tool_plan.tokens,
        message=tool_plan.message,
    )

    async def run() -> ResponseRecord:
        record = ResponseRecord(
            id="resp_x",
            created_at=0,
            deployment="chat",
            model="gpt-4.1",
            echo={"tools": tools, "tool_choice": "auto", "parallel_tool_calls": True, "metadata": {}},
            background=False,
            stream=True,
            store=False,
            include=[],
            context=[],
            keep_events=True,
        )
        await dp_engine.run(record, plan, tokens_per_second=1e9)
        return record

    record = asyncio.run(run())
    events = [json.loads(frame.decode().split("data: ", 1)[1]) for _, frame in record.events]
    _validate(events)
    types = [e["type"] for e in events]
    start = types.index("response.image_generation_call.in_progress")
    assert types[start : start + 3] == [
        "response.image_generation_call.in_progress",
        "response.image_generation_call.generating",
        "response.image_generation_call.completed",
    ]
    assert strict(Response, events[-1]["response"]).output[0].type == "image_generation_call"


# -- attachments ---------------------------------------------------------------------------------------


def _message(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "input_text", "text": "Summarize these."}, *parts]}]


def test_image_and_file_inputs_validate_count_tokens_and_are_acknowledged(sdk: openai.OpenAI) -> None:
    image = {"type": "input_image", "image_url": _data_url("image/png", _png())}
    pdf = {"type": "input_file", "filename": "report.pdf", "file_data": _data_url("application/pdf", PDF)}
    text_only, _ = _create(sdk, model="chat", input=_message())
    both, _ = _create(sdk, model="chat", input=_message(pdf, image))
    low, _ = _create(sdk, model="chat", input=_message({**image, "detail": "low"}))
    assert text_only.usage is not None and both.usage is not None and low.usage is not None
    # a 1x1 image at auto detail: 85 + 170 x 1 tile; a two-page PDF: 2 x (85 + 200)
    assert both.usage.input_tokens - text_only.usage.input_tokens == 255 + 570
    assert low.usage.input_tokens - text_only.usage.input_tokens == 85
    assert both.output_text.startswith("I looked at report.pdf and an image.")
    listing = _listing(sdk, both.id)
    parts = listing.data[0].content  # type: ignore[union-attr]
    assert [p.type for p in parts] == ["input_text", "input_file", "input_image"]
    assert parts[2].image_url is None and parts[2].detail == "auto"
    with_urls = _listing(sdk, both.id, include=["message.input_image.image_url"])
    assert with_urls.data[0].content[2].image_url == image["image_url"]  # type: ignore[union-attr]
    url_image, _ = _create(
        sdk, model="chat", input=_message({"type": "input_image", "image_url": "https://x.test/a.png"})
    )
    assert url_image.usage is not None and url_image.usage.input_tokens - text_only.usage.input_tokens == 765


def _image(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "input_image", "image_url": url, **extra}


def _file(filename: str | None, file_data: str) -> dict[str, Any]:
    part = {"type": "input_file", "file_data": file_data}
    return part if filename is None else {**part, "filename": filename}


@pytest.mark.parametrize(
    ("part", "param", "code"),
    [
        (_image(_data_url("image/gif", b"GIF89a....")), ".image_url", "invalid_value"),
        (_image(_data_url("image/png", b"not a png")), ".image_url", "invalid_image_format"),
        (_image("data:image/png;base64,@@@"), ".image_url", "invalid_value"),
        (_image("ftp://x.test/a.png"), ".image_url", "invalid_value"),
        ({"type": "input_image", "file_id": "file-123"}, ".file_id", "invalid_value"),
        (_image("https://x.test/a.png", detail="max"), ".detail", "invalid_value"),
        (_file(None, _data_url("application/pdf", PDF)), ".filename", "missing_required_parameter"),
        (_file("a.exe", _data_url("application/octet-stream", b"MZ")), ".filename", "unsupported_file"),
        (_file("a.pdf", _data_url("application/pdf", b"hi")), ".file_data", "invalid_value"),
        (_file("a.pdf", "JVBERi0="), ".file_data", "invalid_value"),
        (_file("a.txt", _data_url("text/plain", b"\xff\xfe")), ".file_data", "invalid_value"),
    ],
)
def test_bad_attachments_are_refused(sdk: openai.OpenAI, part: dict[str, Any], param: str, code: str) -> None:
    error = _bad_request(sdk, model="chat", input=_message(part))
    assert (error.param, error.code) == ("input[0].content[1]" + param, code)


# -- stateless chaining with encrypted reasoning -----------------------------------------------------


def test_stateless_turns_carry_encrypted_reasoning(sdk: openai.OpenAI) -> None:
    params: dict[str, Any] = {"model": "reasoner", "store": False, "include": ["reasoning.encrypted_content"]}
    first_input = [{"role": "user", "content": "What is the size of France?"}]
    first, data = _create(sdk, input=first_input, **params)
    reasoning = first.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(first.id)
    transcript = [*first_input, *data["output"], {"role": "user", "content": "And its capital?"}]
    second, _ = _create(sdk, input=transcript, **params)
    assert second.status == "completed" and second.output_text
    assert first.usage is not None and second.usage is not None
    # the encrypted reasoning counts as the reasoning tokens it stands for
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens
    # without its encrypted content, an unstored reasoning item cannot be resolved
    stripped = {k: v for k, v in data["output"][0].items() if k != "encrypted_content"}
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.create(input=[*first_input, stripped], **params)
    assert "Items are not persisted when `store` is set to false" in missing.value.message
    forged = {**data["output"][0], "encrypted_content": "gAAAAABforged"}
    tampered = _bad_request(sdk, input=[*first_input, forged], **params)
    assert "could not be verified" in tampered.message
