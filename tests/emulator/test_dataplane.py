"""Behaviour of the emulator's Responses data plane over real HTTPS (httpx as the client)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from aoai.emulator.server import RunningEmulator

from ..conftest import FAKE_KEY, FAKE_TOKEN, inject_fault


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emulator.url + "/openai/v1",
        verify=str(emulator.ca_path),
        headers={"api-key": FAKE_KEY},
        timeout=30,
    ) as http:
        yield http


def iter_events(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    name = None
    for line in lines:
        if line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            event = json.loads(line[len("data:") :])
            assert event["type"] == name, "the SSE event name must equal the JSON type"
            yield event


def events_of(lines: Iterable[str], limit: int | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for event in iter_events(lines):
        events.append(event)
        if limit is not None and len(events) == limit:
            break
    return events


def stream_post(client: httpx.Client, body: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
    with client.stream("POST", "/responses", json={**body, "stream": True}) as resp:
        assert resp.status_code == 200, resp.read()
        return events_of(resp.iter_lines(), limit)


def stream_get(client: httpx.Client, response_id: str, **params: Any) -> list[dict[str, Any]]:
    with client.stream("GET", f"/responses/{response_id}", params={"stream": "true", **params}) as resp:
        assert resp.status_code == 200, resp.read()
        return events_of(resp.iter_lines())


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    resp = client.post("/responses", json={"model": "chat", **body})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def wait_terminal(client: httpx.Client, response_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        body = client.get(f"/responses/{response_id}").json()
        if body["status"] not in ("queued", "in_progress"):
            return dict(body)
        assert time.monotonic() < deadline
        time.sleep(0.02)


def error_of(resp: httpx.Response) -> dict[str, Any]:
    return dict(resp.json()["error"])


# -- basics ------------------------------------------------------------------------------------------


def test_output_is_deterministic_and_depends_on_the_input(client: httpx.Client) -> None:
    a = create(client, input="Define catastrophic forgetting.")
    b = create(client, input="Define catastrophic forgetting.")
    c = create(client, input="Explain gradient descent.")
    text = a["output"][0]["content"][0]["text"]
    assert text == b["output"][0]["content"][0]["text"]
    assert text != c["output"][0]["content"][0]["text"]
    assert "catastrophic" in text
    assert a["id"] != b["id"] and a["id"].startswith("resp_")
    assert a["model"] == "gpt-4.1-2025-04-14"


def test_every_answer_carries_request_ids(client: httpx.Client) -> None:
    answers = [
        client.post("/responses", json={"model": "chat", "input": "x"}),
        client.post("/responses", json={"model": "nope", "input": "x"}),
        client.get("/responses/resp_missing"),
        client.post("/responses", json={"model": "chat", "input": "x"}, headers={"api-key": "wrong"}),
    ]
    with client.stream("POST", "/responses", json={"model": "chat", "input": "x", "stream": True}) as resp:
        resp.read()
        answers.append(resp)
    for resp in answers:
        assert resp.headers["x-request-id"] == resp.headers["apim-request-id"] != ""


def test_api_version_query_is_optional(client: httpx.Client) -> None:
    assert client.post("/responses", params={"api-version": "preview"}, json={"model": "chat", "input": "x"}).is_success


def test_instructions_are_echoed_and_shape_the_answer(client: httpx.Client) -> None:
    plain = create(client, input="Tell me about rivers and mountains.")
    brief = create(client, input="Tell me about rivers and mountains.", instructions="Answer in one sentence.")
    assert brief["instructions"] == "Answer in one sentence."
    brief_text = brief["output"][0]["content"][0]["text"]
    assert brief_text != plain["output"][0]["content"][0]["text"]
    assert brief_text.count(".") == 1
    assert brief["usage"]["input_tokens"] > plain["usage"]["input_tokens"]


def test_metadata_tools_reasoning_and_include_are_echoed(client: httpx.Client) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    body = create(
        client,
        model="reasoner",
        input="Weather?",
        metadata={"k": "v"},
        tools=[tool],
        tool_choice="required",
        reasoning={"effort": "high", "summary": "auto"},
        include=["reasoning.encrypted_content"],
    )
    assert body["metadata"] == {"k": "v"}
    assert body["tools"] == [{**tool, "description": None, "strict": True}]
    assert body["tool_choice"] == "required"
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["output"][0]["type"] == "reasoning" and body["output"][0]["encrypted_content"].startswith("gAAAAA")
    reasoning_tokens = body["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert reasoning_tokens >= 768  # high effort
    text_tokens = body["usage"]["output_tokens"] - reasoning_tokens
    assert text_tokens > 0
    # without the include, the stored item does not expose its encrypted content unless asked on GET
    other = create(client, model="reasoner", input="Weather?")
    assert "encrypted_content" not in other["output"][0]
    got = client.get(f"/responses/{other['id']}", params={"include[]": "reasoning.encrypted_content"}).json()
    assert got["output"][0]["encrypted_content"]


def test_usage_counts_every_delta(client: httpx.Client) -> None:
    events = stream_post(client, {"model": "chat", "input": "Count my tokens."})
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    final = events[-1]["response"]
    assert final["usage"]["output_tokens"] == len(deltas) > 10
    assert final["usage"]["total_tokens"] == final["usage"]["input_tokens"] + len(deltas)


# -- store / chaining --------------------------------------------------------------------------------


def test_store_false_is_not_retrievable_nor_chainable(client: httpx.Client) -> None:
    body = create(client, input="Forget me.", store=False)
    assert body["status"] == "completed"
    assert client.get(f"/responses/{body['id']}").status_code == 404
    assert client.get(f"/responses/{body['id']}/input_items").status_code == 404
    resp = client.post("/responses", json={"model": "chat", "input": "x", "previous_response_id": body["id"]})
    assert resp.status_code == 400
    assert error_of(resp) == {
        "message": f"Previous response with id '{body['id']}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }


def test_background_requires_store(client: httpx.Client) -> None:
    resp = client.post("/responses", json={"model": "chat", "input": "x", "background": True, "store": False})
    assert resp.status_code == 400 and error_of(resp)["param"] == "background"


def test_previous_response_id_chains_the_context(client: httpx.Client) -> None:
    first = create(client, input="Define catastrophic forgetting.")
    second = create(client, input="Explain it for a college freshman.", previous_response_id=first["id"])
    assert second["previous_response_id"] == first["id"]
    items = client.get(f"/responses/{second['id']}/input_items", params={"order": "asc"}).json()["data"]
    assert [(i["type"], i["role"]) for i in items] == [
        ("message", "user"),
        ("message", "assistant"),
        ("message", "user"),
    ]
    assert items[1]["id"] == first["output"][0]["id"]
    assert items[1]["content"][0]["text"] == first["output"][0]["content"][0]["text"]
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"] + first["usage"]["output_tokens"]
    fresh = create(client, input="Explain it for a college freshman.")
    assert fresh["output"][0]["content"][0]["text"] != second["output"][0]["content"][0]["text"]


def test_previous_response_still_running_is_refused(client: httpx.Client) -> None:
    running = create(client, input="slow", background=True, metadata={"emulator_output_tokens": "100000"})
    try:
        resp = client.post("/responses", json={"model": "chat", "input": "next", "previous_response_id": running["id"]})
        assert resp.status_code == 400 and error_of(resp)["param"] == "previous_response_id"
    finally:
        client.post(f"/responses/{running['id']}/cancel")


def test_item_reference_resolves_stored_items(client: httpx.Client) -> None:
    first = create(client, input="Remember this.")
    message_id = first["output"][0]["id"]
    second = create(client, input=[{"type": "item_reference", "id": message_id}, {"role": "user", "content": "And?"}])
    items = client.get(f"/responses/{second['id']}/input_items", params={"order": "asc"}).json()["data"]
    assert items[0]["id"] == message_id
    resp = client.post("/responses", json={"model": "chat", "input": [{"type": "item_reference", "id": "msg_x"}]})
    assert resp.status_code == 404


# -- max_output_tokens / forced length -----------------------------------------------------------------


def test_max_output_tokens_makes_the_response_incomplete(client: httpx.Client) -> None:
    events = stream_post(
        client, {"model": "chat", "input": "Write a long essay about oceans.", "max_output_tokens": 20}
    )
    assert events[-1]["type"] == "response.incomplete"
    final = events[-1]["response"]
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["usage"]["output_tokens"] == 20
    assert final["output"][0]["status"] == "incomplete"
    assert final["completed_at"] is None
    assert sum(e["type"] == "response.output_text.delta" for e in events) == 20
    assert create(client, input="short", max_output_tokens=500)["status"] == "completed"


def test_max_output_tokens_can_be_used_up_by_reasoning(client: httpx.Client) -> None:
    body = create(client, model="reasoner", input="Think hard.", reasoning={"effort": "high"}, max_output_tokens=100)
    assert body["status"] == "incomplete"
    assert [item["type"] for item in body["output"]] == ["reasoning"]
    assert body["usage"]["output_tokens"] == body["usage"]["output_tokens_details"]["reasoning_tokens"] == 100


def test_max_output_tokens_minimum(client: httpx.Client) -> None:
    resp = client.post("/responses", json={"model": "chat", "input": "x", "max_output_tokens": 5})
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "integer_below_min_value" and error_of(resp)["param"] == "max_output_tokens"


def test_forced_output_length_and_a_burst_at_a_very_high_rate(client: httpx.Client, emulator: RunningEmulator) -> None:
    saved = emulator.state.tokens_per_second
    emulator.state.tokens_per_second = 1e9
    try:
        events = stream_post(
            client, {"model": "chat", "input": "Benchmark.", "metadata": {"emulator_output_tokens": "20000"}}
        )
    finally:
        emulator.state.tokens_per_second = saved
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 20000
    final = events[-1]["response"]
    assert final["usage"]["output_tokens"] == 20000
    assert final["output"][0]["content"][0]["text"] == "".join(deltas)
    assert final["metadata"] == {"emulator_output_tokens": "20000"}
    resp = client.post("/responses", json={"model": "chat", "metadata": {"emulator_output_tokens": "lots"}})
    assert resp.status_code == 400 and error_of(resp)["param"] == "metadata.emulator_output_tokens"


@pytest.mark.parametrize("event", ["response.failed", "error"])
def test_emulator_failure_injection(client: httpx.Client, event: str) -> None:
    metadata = {"emulator_fail_after_tokens": "3", "emulator_fail_event": event}
    events = stream_post(client, {"model": "chat", "input": "x", "background": True, "metadata": metadata})
    assert [e["type"] for e in events].count("response.output_text.delta") == 3
    assert events[-1]["type"] == event
    stored = wait_terminal(client, events[0]["response"]["id"])
    assert stored["status"] == "failed" and stored["error"]["code"] == "server_error"
    assert stored["output"][0]["status"] == "incomplete" and stored["usage"]["output_tokens"] == 3
    sync = create(client, input="x", metadata={"emulator_fail_after_tokens": "0"})
    assert sync["status"] == "failed" and sync["output"][0]["content"][0]["text"] == ""
    bad = client.post("/responses", json={"model": "chat", "metadata": {"emulator_fail_event": "boom"}})
    assert bad.status_code == 400 and error_of(bad)["param"] == "metadata.emulator_fail_event"


# -- background, cancel, resume ------------------------------------------------------------------------


def test_background_answers_queued_then_completes(client: httpx.Client) -> None:
    created = create(client, input="Background work.", background=True)
    assert created["status"] == "queued" and created["background"] is True
    assert created["output"] == [] and created["usage"] is None
    done = wait_terminal(client, created["id"])
    assert done["status"] == "completed" and done["completed_at"] is not None and done["usage"]


def test_cancel_is_idempotent_and_keeps_partial_output(client: httpx.Client) -> None:
    created = create(client, input="Go on forever.", background=True, metadata={"emulator_output_tokens": "100000"})
    deadline = time.monotonic() + 10
    while not client.get(f"/responses/{created['id']}").json()["output"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.05)
    first = client.post(f"/responses/{created['id']}/cancel").json()
    assert first["status"] == "cancelled"
    message = first["output"][0]
    assert message["status"] == "incomplete" and message["content"][0]["text"]
    assert 0 < first["usage"]["output_tokens"] < 100000
    time.sleep(0.05)
    assert client.post(f"/responses/{created['id']}/cancel").json() == first
    assert client.get(f"/responses/{created['id']}").json() == first


def test_cancel_finished_background_returns_it_as_is(client: httpx.Client) -> None:
    created = create(client, input="Quick.", background=True)
    done = wait_terminal(client, created["id"])
    assert client.post(f"/responses/{created['id']}/cancel").json() == done


def test_cancel_errors(client: httpx.Client) -> None:
    sync = create(client, input="sync")
    resp = client.post(f"/responses/{sync['id']}/cancel")
    assert resp.status_code == 400
    assert error_of(resp) == {
        "message": "Cannot cancel a synchronous response.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert client.post("/responses/resp_unknown/cancel").status_code == 404


def test_resume_with_starting_after_gives_exactly_the_remaining_events(client: httpx.Client) -> None:
    body = {"model": "chat", "input": "Resume me.", "background": True, "metadata": {"emulator_output_tokens": "400"}}
    head = stream_post(client, body, limit=12)  # then drop the connection
    response_id = head[0]["response"]["id"]
    rest = stream_get(client, response_id, starting_after=head[-1]["sequence_number"])
    combined = head + rest
    assert [e["sequence_number"] for e in combined] == list(range(len(combined)))
    assert combined[-1]["type"] == "response.completed"
    assert stream_get(client, response_id) == combined  # full replay once finished
    assert stream_get(client, response_id, starting_after=len(combined) - 2) == combined[-1:]
    assert stream_get(client, response_id, starting_after=len(combined) + 5) == []


def test_cancel_ends_a_live_background_stream_without_terminal_event(client: httpx.Client) -> None:
    body = {
        "model": "chat",
        "input": "Cancel me.",
        "background": True,
        "metadata": {"emulator_output_tokens": "100000"},
    }
    with client.stream("POST", "/responses", json={**body, "stream": True}) as resp:
        lines = resp.iter_lines()
        head = events_of(lines, limit=6)
        client.post(f"/responses/{head[0]['response']['id']}/cancel")
        tail = events_of(lines)
    types = {e["type"] for e in head + tail}
    assert not types & {"response.completed", "response.incomplete", "response.failed"}
    assert client.get(f"/responses/{head[0]['response']['id']}").json()["status"] == "cancelled"


def test_closing_a_foreground_stream_cancels_it(client: httpx.Client) -> None:
    body = {"model": "chat", "input": "Foreground.", "metadata": {"emulator_output_tokens": "100000"}}
    head = stream_post(client, body, limit=6)
    response_id = head[0]["response"]["id"]
    assert wait_terminal(client, response_id)["status"] == "cancelled"


def test_streaming_again_needs_background_and_stream(client: httpx.Client) -> None:
    for extra in ({}, {"background": True}):
        created = create(client, input="not resumable", **extra)
        resp = client.get(f"/responses/{created['id']}", params={"stream": "true"})
        assert resp.status_code == 400 and error_of(resp)["param"] == "stream"
    events = stream_post(client, {"model": "chat", "input": "resumable", "background": True})
    resp = client.get(f"/responses/{events[0]['response']['id']}", params={"stream": "true", "starting_after": "-1"})
    assert resp.status_code == 400 and error_of(resp)["param"] == "starting_after"


def test_delete(client: httpx.Client) -> None:
    created = create(client, input="bye")
    resp = client.delete(f"/responses/{created['id']}")
    assert resp.json() == {"id": created["id"], "object": "response.deleted", "deleted": True}
    assert client.get(f"/responses/{created['id']}").status_code == 404
    assert client.delete(f"/responses/{created['id']}").status_code == 404
    running = create(client, input="x", background=True, metadata={"emulator_output_tokens": "100000"})
    assert client.delete(f"/responses/{running['id']}").json()["deleted"] is True


# -- compaction ----------------------------------------------------------------------------------------


def test_server_side_compaction_over_the_threshold(client: httpx.Client) -> None:
    long_input = "Let us begin a long coding task. " * 300
    management = [{"type": "compaction", "compact_threshold": 1000}]
    below = create(client, input="short", context_management=management)
    assert [i["type"] for i in below["output"]] == ["message"]
    first = create(client, input=long_input, context_management=management)
    assert first["usage"]["input_tokens"] > 1000
    assert [i["type"] for i in first["output"]] == ["compaction", "message"]
    assert first["output"][0]["encrypted_content"].startswith("gAAAAAB")
    second = create(client, input="Continue.", previous_response_id=first["id"], context_management=management)
    items = client.get(f"/responses/{second['id']}/input_items", params={"order": "asc"}).json()["data"]
    assert [i["type"] for i in items] == ["message", "compaction", "message", "message"]
    resp = client.post(
        "/responses", json={"model": "chat", "context_management": [{"type": "compaction", "compact_threshold": 10}]}
    )
    assert resp.status_code == 400 and error_of(resp)["param"] == "context_management[0].compact_threshold"


def test_compact_endpoint_keeps_user_messages_and_reduces_tokens(client: httpx.Client) -> None:
    first = create(client, input="Create a landing page for a dog cafe.", metadata={"emulator_output_tokens": "2000"})
    resp = client.post("/responses/compact", json={"model": "chat", "previous_response_id": first["id"]})
    assert resp.status_code == 200
    compacted = resp.json()
    assert compacted["object"] == "response.compaction" and compacted["id"].startswith("resp_")
    assert [(i["type"], i.get("role")) for i in compacted["output"]] == [("message", "user"), ("compaction", None)]
    usage = compacted["usage"]
    assert usage["input_tokens"] > 2000 and 0 < usage["output_tokens"] < usage["input_tokens"]
    follow = create(client, input=[*compacted["output"], {"role": "user", "content": "Add a booking form."}])
    assert follow["usage"]["input_tokens"] < usage["input_tokens"] // 2
    assert client.get(f"/responses/{compacted['id']}").status_code == 404
    missing = client.post("/responses/compact", json={"model": "chat"})
    assert missing.status_code == 400 and error_of(missing)["param"] == "input"
    assert client.post("/responses/compact", json={"model": "nope", "input": "x"}).status_code == 404


# -- input items paging ----------------------------------------------------------------------------------


def test_input_items_paging(client: httpx.Client) -> None:
    created = create(client, input=[{"role": "user", "content": f"part {n}"} for n in range(5)])
    url = f"/responses/{created['id']}/input_items"
    asc = client.get(url, params={"order": "asc"}).json()
    ids = [item["id"] for item in asc["data"]]
    assert [item["content"][0]["text"] for item in asc["data"]] == [f"part {n}" for n in range(5)]
    desc = client.get(url).json()
    assert [item["id"] for item in desc["data"]] == ids[::-1]  # newest first by default
    page = client.get(url, params={"order": "asc", "limit": 2}).json()
    assert [i["id"] for i in page["data"]] == ids[:2]
    assert page["has_more"] is True and page["first_id"] == ids[0] and page["last_id"] == ids[1]
    page = client.get(url, params={"order": "asc", "limit": 2, "after": ids[1]}).json()
    assert [i["id"] for i in page["data"]] == ids[2:4] and page["has_more"] is True
    page = client.get(url, params={"order": "asc", "after": ids[3]}).json()
    assert [i["id"] for i in page["data"]] == ids[4:] and page["has_more"] is False
    page = client.get(url, params={"order": "asc", "before": ids[2]}).json()
    assert [i["id"] for i in page["data"]] == ids[:2]
    for params in ({"limit": 0}, {"limit": 101}, {"order": "sideways"}, {"after": "msg_nope"}):
        assert client.get(url, params=params).status_code == 400


# -- errors and authentication -------------------------------------------------------------------------


def test_unknown_deployment_is_deployment_not_found(client: httpx.Client) -> None:
    resp = client.post("/responses", json={"model": "gpt-4.1", "input": "x"})
    assert resp.status_code == 404
    assert error_of(resp)["code"] == "DeploymentNotFound"
    assert error_of(resp)["message"].startswith("The API deployment for this resource does not exist.")


@pytest.mark.parametrize(
    "headers",
    [
        {"api-key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {},
    ],
)
def test_bad_credentials_are_401(emulator: RunningEmulator, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=emulator.url + "/openai/v1", verify=str(emulator.ca_path), headers=headers) as http:
        resp = http.post("/responses", json={"model": "chat", "input": "x"})
        assert resp.status_code == 401
        assert error_of(resp)["code"] == "401"
        assert http.get("/responses/resp_x").status_code == 401


@pytest.mark.parametrize("value", [FAKE_TOKEN, FAKE_KEY])
def test_bearer_token_or_key_is_accepted(emulator: RunningEmulator, value: str) -> None:
    headers = {"Authorization": f"Bearer {value}"}
    with httpx.Client(base_url=emulator.url + "/openai/v1", verify=str(emulator.ca_path), headers=headers) as http:
        assert http.post("/responses", json={"model": "chat", "input": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"input": "x"}, "model", "missing_required_parameter"),
        ({"model": "chat", "input": "x", "colour": "red"}, "colour", "unknown_parameter"),
        ({"model": "chat", "input": 5}, "input", "invalid_type"),
        ({"model": "chat", "input": [{"role": "robot", "content": "x"}]}, "input[0].role", "invalid_value"),
        ({"model": "chat", "input": [{"type": "telepathy"}]}, "input[0].type", "invalid_value"),
        ({"model": "chat", "input": "x", "stream": "yes"}, "stream", "invalid_type"),
        ({"model": "chat", "input": "x", "temperature": 3}, "temperature", "decimal_above_max_value"),
        ({"model": "reasoner", "input": "x", "temperature": 0.2}, "temperature", "unsupported_parameter"),
        ({"model": "chat", "input": "x", "reasoning": {"effort": "high"}}, "reasoning.effort", "unsupported_parameter"),
        ({"model": "chat", "input": "x", "include": ["everything"]}, "include[0]", "invalid_value"),
        ({"model": "chat", "input": "x", "metadata": {"k": 1}}, "metadata.k", "invalid_type"),
        (
            {"model": "chat", "input": "x", "metadata": {f"k{i}": "v" for i in range(17)}},
            "metadata",
            "object_above_max_properties",
        ),
        ({"model": "chat", "input": "x", "tool_choice": "sometimes"}, "tool_choice", "invalid_value"),
        (
            {"model": "chat", "input": "x", "tools": [{"type": "function"}]},
            "tools[0].name",
            "missing_required_parameter",
        ),
        ({"model": "chat", "input": "x", "truncation": "middle"}, "truncation", "invalid_value"),
        ({"model": "chat", "input": "x", "text": {"format": {"type": "yaml"}}}, "text.format.type", "invalid_value"),
        ({"model": "chat", "input": "x", "context_management": []}, "context_management", "empty_array"),
    ],
)
def test_validation_errors_use_the_openai_shape(
    client: httpx.Client, body: dict[str, Any], param: str, code: str
) -> None:
    resp = client.post("/responses", json=body)
    assert resp.status_code == 400, resp.text
    error = error_of(resp)
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]


def test_malformed_json_body(client: httpx.Client) -> None:
    resp = client.post("/responses", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and error_of(resp)["type"] == "invalid_request_error"


def test_unknown_response_ids_are_404_everywhere(client: httpx.Client) -> None:
    for method, path in (
        ("GET", "/responses/resp_nope"),
        ("DELETE", "/responses/resp_nope"),
        ("POST", "/responses/resp_nope/cancel"),
        ("GET", "/responses/resp_nope/input_items"),
    ):
        resp = client.request(method, path)
        assert resp.status_code == 404
        assert error_of(resp)["message"] == "Response with id 'resp_nope' not found."


# -- faults ---------------------------------------------------------------------------------------------


def test_fault_429_with_retry_after(client: httpx.Client, emulator: RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", status=429, retry_after_ms=50, retry_after=1, count=2)
    for _ in range(2):
        resp = client.post("/responses", json={"model": "chat", "input": "x"})
        assert resp.status_code == 429
        assert resp.headers["retry-after-ms"] == "50" and resp.headers["retry-after"] == "1"
        assert error_of(resp)["code"] == "429"
    assert client.post("/responses", json={"model": "chat", "input": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("route", "method", "path"),
    [
        ("responses.create", "POST", "/responses"),
        ("responses.retrieve", "GET", "/responses/{id}"),
        ("responses.cancel", "POST", "/responses/{id}/cancel"),
        ("responses.delete", "DELETE", "/responses/{id}"),
        ("responses.compact", "POST", "/responses/compact"),
        ("responses.input_items", "GET", "/responses/{id}/input_items"),
    ],
)
@pytest.mark.parametrize("status", [500, 503])
def test_fault_5xx_on_every_route(
    client: httpx.Client, emulator: RunningEmulator, route: str, method: str, path: str, status: int
) -> None:
    created = create(client, input="target", background=True)
    inject_fault(emulator, route=route, status=status)
    body = {"model": "chat", "input": "x"} if method == "POST" else None
    resp = client.request(method, path.format(id=created["id"]), json=body)
    assert resp.status_code == status
    assert error_of(resp)["code"] == str(status)
    # the fault was used up: the same call now works (or fails for its own reason, never the fault)
    assert client.request(method, path.format(id=created["id"]), json=body).status_code != status


def test_fault_expired_token(client: httpx.Client, emulator: RunningEmulator) -> None:
    inject_fault(emulator, route="responses.*", expired_token=True)
    resp = client.get("/responses/resp_any")
    assert resp.status_code == 401 and "expired" in error_of(resp)["message"]


def test_fault_latency(client: httpx.Client, emulator: RunningEmulator) -> None:
    created = create(client, input="x")
    inject_fault(emulator, route="responses.retrieve", latency_ms=300)
    started = time.monotonic()
    assert client.get(f"/responses/{created['id']}").status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("route", ["responses.create", "responses.retrieve"])
def test_fault_cut_abort_breaks_the_chunked_body(client: httpx.Client, emulator: RunningEmulator, route: str) -> None:
    body = {"model": "chat", "input": "cut me", "background": True, "metadata": {"emulator_output_tokens": "200"}}
    response_id = None
    if route == "responses.retrieve":
        response_id = stream_post(client, body, limit=1)[0]["response"]["id"]
    inject_fault(emulator, route=route, cut_after_events=7)
    received: list[dict[str, Any]] = []
    with pytest.raises(httpx.RemoteProtocolError):
        if response_id is None:
            with client.stream("POST", "/responses", json={**body, "stream": True}) as resp:
                for event in iter_events(resp.iter_lines()):
                    received.append(event)
        else:
            with client.stream("GET", f"/responses/{response_id}", params={"stream": "true"}) as resp:
                for event in iter_events(resp.iter_lines()):
                    received.append(event)
    assert [e["sequence_number"] for e in received] == list(range(7))
    response_id = response_id or received[0]["response"]["id"]
    # the generation itself was not affected: resuming gives the rest
    rest = stream_get(client, response_id, starting_after=6)
    assert rest[0]["sequence_number"] == 7 and rest[-1]["type"] == "response.completed"


def test_fault_cut_eof_ends_cleanly_without_terminal_event(client: httpx.Client, emulator: RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", cut_after_events=5, cut_mode="eof")
    events = stream_post(client, {"model": "chat", "input": "eof", "background": True})
    assert [e["sequence_number"] for e in events] == list(range(5))
    rest = stream_get(client, events[0]["response"]["id"], starting_after=4)
    assert rest[-1]["type"] == "response.completed"


def test_fault_cut_on_foreground_stream(client: httpx.Client, emulator: RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", cut_after_events=3, cut_mode="eof")
    events = stream_post(client, {"model": "chat", "input": "fg"})
    assert len(events) == 3
    assert wait_terminal(client, events[0]["response"]["id"])["status"] == "completed"


def _first_token_wait(events_with_time: list[tuple[float, dict[str, Any]]]) -> float:
    part_added = next(t for t, e in events_with_time if e["type"] == "response.content_part.added")
    first_delta = next(t for t, e in events_with_time if e["type"] == "response.output_text.delta")
    return first_delta - part_added


def _timed(lines: Iterable[str]) -> list[tuple[float, dict[str, Any]]]:
    timed = []
    name = None
    for line in lines:
        if line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            event = json.loads(line[len("data:") :])
            assert event["type"] == name
            timed.append((time.monotonic(), event))
    return timed


def test_fault_first_token_delay_on_create(client: httpx.Client, emulator: RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", first_token_delay_ms=300)
    with client.stream("POST", "/responses", json={"model": "chat", "input": "slow start", "stream": True}) as resp:
        timed = _timed(resp.iter_lines())
    assert _first_token_wait(timed) >= 0.25
    assert timed[-1][1]["type"] == "response.completed"


def test_fault_first_token_delay_on_resume(client: httpx.Client, emulator: RunningEmulator) -> None:
    events = stream_post(client, {"model": "chat", "input": "replay slowly", "background": True})
    inject_fault(emulator, route="responses.retrieve", first_token_delay_ms=300)
    with client.stream("GET", f"/responses/{events[0]['response']['id']}", params={"stream": "true"}) as resp:
        timed = _timed(resp.iter_lines())
    assert _first_token_wait(timed) >= 0.25
    assert [e for _, e in timed] == events
