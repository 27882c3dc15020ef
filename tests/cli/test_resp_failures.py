"""The real ``aoai resp`` against a loopback server replaying failure shapes byte for byte (issue 11).

What the user sees matters here: one line, the right exit code, nothing lost, no traceback, no key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import FAKE_KEY, AoaiRunner, Result, _base_env
from ..responses.test_failure_shapes import (
    CHAT_ERROR,
    EMPTY_200,
    FAILED_THEN_ERROR,
    GATEWAY_502,
    MODEL_NOT_FOUND,
    SPLIT_EMOJI,
)
from ..responses.wire import ReplayServer, Script, json_wire, sequence, sse_wire


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[tuple[list[ReplayServer], AoaiRunner]]:
    """(servers, runner): ``serve(script)`` below starts a server the runner points at."""
    servers: list[ReplayServer] = []
    yield servers, AoaiRunner({**_base_env(tmp_path), "AZURE_OPENAI_API_KEY": FAKE_KEY}, tmp_path)
    for server in servers:
        server.__exit__(None, None, None)


def run(replay: tuple[list[ReplayServer], AoaiRunner], script: Script, *args: str) -> tuple[Result, ReplayServer]:
    servers, aoai = replay
    server = ReplayServer(script).__enter__()
    servers.append(server)
    result = aoai(*args, env={"AZURE_OPENAI_ENDPOINT": server.endpoint})
    clean(result)
    return result, server


def clean(result: Result) -> None:
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert FAKE_KEY not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["create", "hi", "-m", "chat"],
        ["create", "hi", "-m", "chat", "-o", "json"],
        ["create", "hi", "-m", "chat", "--background"],
        ["create", "hi", "-m", "chat", "--background", "--wait", "--interval", "0.1"],
        ["retrieve", "resp_1"],
        ["retrieve", "resp_1", "--wait", "--interval", "0.1"],
        ["cancel", "resp_1"],
        ["compact", "hi", "-m", "chat"],
    ],
)
def test_a_200_with_an_empty_body_exits_4_and_prints_nothing(
    replay: tuple[list[ReplayServer], AoaiRunner], args: list[str]
) -> None:
    result, server = run(replay, sequence(EMPTY_200), "resp", *args)
    assert result.code == 4, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "answered 200 OK with an empty body (content type application/json; request id req-42)" in lines[0]
    assert len(server.requests) == 1  # never a second request, never GET /responses/None


def test_retry_after_a_day_stops_at_once(replay: tuple[list[ReplayServer], AoaiRunner]) -> None:
    throttled = json_wire(
        429,
        '{"error":{"code":"429","message":"Requests to the Responses Operation under Azure OpenAI API version v1 '
        "have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after 86400 "
        'seconds."}}',
        ("retry-after", "86400"),
    )
    result, server = run(replay, sequence(throttled), "resp", "create", "hi", "-m", "chat")
    assert result.code == 4
    assert len(server.requests) == 1 and "retry 1" not in result.stderr
    line = result.stderr.strip()
    assert line.startswith("aoai: error: 429: Requests to the Responses Operation")
    assert "asks to wait 24.0 h (86400 s)" in line


def test_model_not_found_exits_5_with_the_deployment_hint(replay: tuple[list[ReplayServer], AoaiRunner]) -> None:
    result, _ = run(replay, sequence(MODEL_NOT_FOUND), "resp", "create", "hi", "-m", "gpt-4.1")
    assert result.code == 5
    line = result.stderr.strip()
    assert line.startswith("aoai: error: 400 model_not_found: The model `gpt-4.1` does not exist")
    assert "deployment name, not the model name" in line and "`aoai preflight run` checks both" in line


def test_a_gateway_502_page_is_one_line_without_markup(replay: tuple[list[ReplayServer], AoaiRunner]) -> None:
    result, _ = run(replay, sequence(GATEWAY_502), "resp", "retrieve", "resp_1", "--max-retries", "0")
    assert result.code == 4
    line = result.stderr.strip()
    assert line.startswith(
        "aoai: error: 502 Bad Gateway — an HTML page, probably from a proxy or gateway (title: 502 Bad Gateway)"
    )
    assert "<" not in result.stderr and len(line.splitlines()) == 1


def stream_of(frames: list[str]) -> Script:
    return sequence(sse_wire(frames))


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl"])
def test_a_failed_stream_names_the_reason_a_trailing_error_event_gives(
    replay: tuple[list[ReplayServer], AoaiRunner], fmt: str
) -> None:
    result, _ = run(replay, stream_of(FAILED_THEN_ERROR), "resp", "create", "hi", "-m", "chat", "--stream", "-o", fmt)
    assert result.code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("aoai: error: response resp_f1 failed: content_policy_violation: Your request was flagged")
    if fmt == "jsonl":
        assert json.loads(result.stdout.splitlines()[-1])["type"] == "error"


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl"])
def test_a_chat_style_error_frame_is_shown_in_every_mode(
    replay: tuple[list[ReplayServer], AoaiRunner], fmt: str
) -> None:
    result, _ = run(replay, stream_of(CHAT_ERROR), "resp", "create", "hi", "-m", "chat", "--stream", "-o", fmt)
    assert result.code == 4
    last = result.stderr.strip().splitlines()[-1]
    assert "ended with an error: The server had an error processing your request." in last
    assert "use --background" not in result.stderr


def test_an_emoji_split_across_deltas_prints_whole(replay: tuple[list[ReplayServer], AoaiRunner]) -> None:
    result, _ = run(replay, stream_of(SPLIT_EMOJI), "resp", "create", "hi", "-m", "chat", "--stream")
    assert result.code == 0, result.stderr
    assert result.stdout == "Hi \U0001f600 there"


def test_input_items_without_a_cursor(replay: tuple[list[ReplayServer], AoaiRunner]) -> None:
    page = json_wire(
        200,
        '{"object":"list","data":[{"id":"msg_1","type":"message","role":"user","status":"completed","content":'
        '[{"type":"input_text","text":"hi"}]}],"first_id":"msg_1","last_id":null,"has_more":true}',
    )
    one, _ = run(replay, sequence(page), "resp", "items", "resp_1")
    assert one.code == 0 and "msg_1" in one.stdout
    assert "gave no cursor" in one.stderr and "--after None" not in one.stderr
    every, _ = run(replay, sequence(page), "resp", "items", "resp_1", "--all")
    assert every.code == 4 and "msg_1" in every.stdout
    assert "input items of resp_1 are incomplete" in every.stderr.strip().splitlines()[-1]
