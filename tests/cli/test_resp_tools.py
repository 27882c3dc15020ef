"""``aoai resp`` files, images, tool calls, MCP approvals, image generation and stateless chaining,
end to end: the real ``aoai`` subprocess against the emulator, checking what was sent through the
emulator's request log."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from aoai.emulator import server

from ..conftest import FAKE_KEY, FAKE_TOKEN, AoaiRunner, control

MODEL = "chat"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
ASK = "What's the weather in Oslo? Use get_weather."
MCP_SECRET = "Bearer mcp-SECRET-value-5e1d"
TOOL_SCRIPT = """
import json, os, sys
call = json.load(sys.stdin)
leaked = sorted(k for k in ("AZURE_OPENAI_API_KEY", "AOAI_ACCESS_TOKEN", "DOCS_AUTH") if k in os.environ)
print(json.dumps({"city": call["arguments"]["city"], "temperature": 21, "tool": os.environ["AOAI_TOOL_NAME"],
                  "leaked": leaked}))
"""


def _requests(emulator: server.RunningEmulator) -> list[dict[str, Any]]:
    entries = control(emulator, "GET", "/_emulator/requests")["requests"]
    return [e for e in entries if e["path"].startswith("/openai/")]


def _clear(emulator: server.RunningEmulator) -> None:
    control(emulator, "DELETE", "/_emulator/requests")


def _posts(emulator: server.RunningEmulator) -> list[dict[str, Any]]:
    return [e["body"] for e in _requests(emulator) if e["method"] == "POST" and e["path"] == "/openai/v1/responses"]


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (FAKE_KEY, FAKE_TOKEN, MCP_SECRET):
            assert secret not in text


@pytest.fixture
def weather(tmp_path: Path) -> str:
    (tmp_path / "weather.json").write_text(json.dumps(WEATHER))
    return "@weather.json"


# -- function calls ----------------------------------------------------------------------------------


def test_function_call_is_shown_with_the_follow_up_command(aoai: AoaiRunner, weather: str) -> None:
    result = aoai("resp", "create", ASK, "-m", MODEL, "--tool", weather)
    assert result.code == 0, result.stderr
    title, *body = result.stdout.splitlines()
    assert title.startswith("function call get_weather  call_id=call_")
    call_id = title.split("call_id=")[1]
    assert json.loads("\n".join(body)) == {"city": "Oslo", "unit": "celsius"}
    assert body[0] == "{" and body[1].startswith('  "city"')  # pretty-printed
    hint = next(line for line in result.stderr.splitlines() if "answer with:" in line)
    command = hint.split("answer with: ", 1)[1]
    assert command.startswith("aoai resp create -m chat -p resp_")
    assert command.endswith(f"--tool-output {call_id}=RESULT_JSON")
    response_id = command.split(" -p ")[1].split()[0]

    args = command.replace("RESULT_JSON", '{"temperature":21}').split()[1:]
    follow = aoai(*args)
    assert follow.code == 0, follow.stderr
    assert follow.stdout.startswith('Based on the result of get_weather: {"temperature":21}.')

    as_json = aoai("resp", "get", response_id, "-o", "json")
    (item,) = json.loads(as_json.stdout)["output"]
    assert item["type"] == "function_call" and item["call_id"] == call_id and json.loads(item["arguments"])


def test_create_json_keeps_function_calls_in_the_object(aoai: AoaiRunner, weather: str) -> None:
    result = aoai("resp", "create", ASK, "-m", MODEL, "--tool", weather, "-o", "json")
    assert result.code == 0, result.stderr
    response = json.loads(result.stdout)  # stdout is only the object
    assert [item["type"] for item in response["output"]] == ["function_call"]
    assert "answer with: aoai resp create" in result.stderr


def test_exec_tools_runs_two_rounds(
    aoai: AoaiRunner, emulator: server.RunningEmulator, weather: str, tmp_path: Path
) -> None:
    (tmp_path / "tool.py").write_text(TOOL_SCRIPT)
    _clear(emulator)
    result = aoai(
        "resp", "create", ASK, "-m", MODEL, "--tool", weather, "--exec-tools", f"{sys.executable} tool.py",
        "--mcp", "docs=https://docs.example.com/mcp", "--mcp-header", "docs:Authorization=DOCS_AUTH",
        env={"DOCS_AUTH": MCP_SECRET},
    )  # fmt: skip
    assert result.code == 0, result.stderr
    expected = {"city": "Oslo", "temperature": 21, "tool": "get_weather", "leaked": []}
    assert result.stdout.startswith(f"Based on the result of get_weather: {json.dumps(expected)}.")
    assert "tool round 1: running get_weather (call_" in result.stderr
    first, second = _posts(emulator)
    assert "previous_response_id" not in first and "stream" not in first
    assert second["tools"] == first["tools"] and second["model"] == MODEL
    assert first["tools"][1]["headers"] == {"Authorization": MCP_SECRET}  # sent to the service, hidden from the tool
    assert second["previous_response_id"].startswith("resp_")
    (output,) = second["input"]
    assert output["type"] == "function_call_output" and json.loads(output["output"]) == expected
    _no_secret(result.stdout, result.stderr)


def test_exec_tools_stops_at_the_round_limit_and_on_a_failing_command(
    aoai: AoaiRunner, emulator: server.RunningEmulator, weather: str, tmp_path: Path
) -> None:
    (tmp_path / "tool.py").write_text(TOOL_SCRIPT)
    _clear(emulator)
    looping = aoai(
        "resp", "create", ASK, "-m", MODEL, "--tool", weather, "--tool-choice", "required",
        "--exec-tools", f"{sys.executable} tool.py", "--max-tool-rounds", "2",
    )  # fmt: skip
    assert looping.code == 1
    assert "stopped after 2 tool round(s)" in looping.stderr and "--max-tool-rounds" in looping.stderr
    assert len(_posts(emulator)) == 3
    (tmp_path / "bad.py").write_text("import sys\nprint('no forecast for Oslo', file=sys.stderr)\nsys.exit(4)")
    failing = aoai("resp", "create", ASK, "-m", MODEL, "--tool", weather, "--exec-tools", f"{sys.executable} bad.py")
    assert failing.code == 1
    assert "exited with status 4: no forecast for Oslo" in failing.stderr


# -- MCP -----------------------------------------------------------------------------------------------


def _mcp_create(aoai: AoaiRunner, *extra: str) -> dict[str, Any]:
    result = aoai(
        "resp", "create", "Search the docs for the retry policy.", "-m", MODEL,
        "--mcp", "docs=https://docs.example.com/mcp", "--mcp-header", "docs:Authorization=DOCS_AUTH",
        "-o", "json", *extra,
        env={"DOCS_AUTH": MCP_SECRET},
    )  # fmt: skip
    assert result.code == 0, result.stderr
    _no_secret(result.stdout, result.stderr)
    return dict(json.loads(result.stdout))


def test_mcp_approve(aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path) -> None:
    _clear(emulator)
    first = _mcp_create(aoai)
    assert [item["type"] for item in first["output"]] == ["mcp_list_tools", "mcp_approval_request"]
    request = first["output"][1]
    sent = _posts(emulator)[0]["tools"][0]
    assert sent == {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://docs.example.com/mcp",
        "require_approval": "always",
        "headers": {"Authorization": MCP_SECRET},
    }
    shown = aoai("resp", "get", first["id"])
    assert f"MCP approval request {request['id']}  docs.search" in shown.stdout

    _clear(emulator)
    approved = aoai(
        "resp", "approve", first["id"], request["id"], "--mcp-header", "docs:Authorization=DOCS_AUTH",
        env={"DOCS_AUTH": MCP_SECRET},
    )  # fmt: skip
    assert approved.code == 0, approved.stderr
    assert approved.stdout.startswith("According to docs:")
    (body,) = _posts(emulator)
    assert body["model"] == MODEL  # from the journal
    assert body["previous_response_id"] == first["id"]
    assert body["input"] == [{"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": True}]
    assert body["tools"][0]["headers"] == {"Authorization": MCP_SECRET}
    _no_secret(approved.stdout, approved.stderr)
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert MCP_SECRET.encode() not in path.read_bytes()


def test_mcp_deny(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    first = _mcp_create(aoai)
    request_id = first["output"][1]["id"]
    _clear(emulator)
    denied = aoai("resp", "approve", first["id"], request_id, "--deny", "-m", MODEL, "-o", "json")
    assert denied.code == 0, denied.stderr
    response = json.loads(denied.stdout)
    assert [item["type"] for item in response["output"]] == ["message"]
    assert "was not approved" in response["output"][0]["content"][0]["text"]
    (body,) = _posts(emulator)
    assert body["input"][0]["approve"] is False and "headers" not in body["tools"][0]


def test_mcp_never_calls_at_once(aoai: AoaiRunner) -> None:
    response = _mcp_create(aoai, "--mcp-approval", "never")
    assert [item["type"] for item in response["output"]] == ["mcp_list_tools", "mcp_call", "message"]


def test_approve_an_unknown_request(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    first = _mcp_create(aoai)
    _clear(emulator)
    result = aoai("resp", "approve", first["id"], "mcpr_nope", "-m", MODEL)
    assert result.code == 2
    assert f"response {first['id']} has no MCP approval request mcpr_nope" in result.stderr
    assert _posts(emulator) == []


# -- image generation -------------------------------------------------------------------------------------


def test_generated_png_is_written_and_readable(aoai: AoaiRunner, tmp_path: Path) -> None:
    result = aoai(
        "resp", "create", "Draw a picture of an otter.", "-m", MODEL,
        "--image-deployment", "gpt-image-1", "--save-images", "out/images",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Here is the image I generated:")
    path = tmp_path / lines[-1]
    assert path.parent == tmp_path / "out" / "images" and path.suffix == ".png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (64, 64, 8, 2)
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    assert len(zlib.decompress(data[idat + 4 : idat + 4 + length])) == height * (1 + width * 3)
    assert "base64" not in result.stdout and len(result.stdout) < 1000


def test_images_are_not_saved_unless_asked_and_json_keeps_them_for_pipes(aoai: AoaiRunner, tmp_path: Path) -> None:
    result = aoai("resp", "create", "Draw an otter.", "-m", MODEL, "--image-deployment", "gpt-image-1")
    assert result.code == 0, result.stderr
    assert "1 image generated; add --save-images DIR" in result.stderr
    as_json = aoai("resp", "create", "Draw an otter.", "-m", MODEL, "--image-deployment", "gpt-image-1", "-o", "json")
    call = json.loads(as_json.stdout)["output"][0]
    assert call["type"] == "image_generation_call" and len(call["result"]) > 100  # a pipe gets the data


def test_image_generation_without_the_deployment_header_is_refused_by_the_service(
    aoai: AoaiRunner, tmp_path: Path
) -> None:
    (tmp_path / "image_tool.json").write_text(json.dumps({"type": "image_generation"}))
    result = aoai("resp", "create", "Draw an otter.", "-m", MODEL, "--tool", "@image_tool.json", "--no-stream")
    assert result.code == 2
    assert "x-ms-oai-image-generation-deployment" in result.stderr
