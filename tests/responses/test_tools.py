"""Tool outputs, the tool command runner, MCP definitions and headers, approvals, and the tool loop."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from aoai.errors import ExitCode, UsageError
from aoai.responses import McpApproval, tools

CALL = tools.FunctionCall("call_1", "get_weather", '{"city": "Oslo"}')


def _read(path: str) -> str:
    if path == "result.txt":
        return "plain text\n"
    raise UsageError(f"file {path!r} does not exist")


def test_tool_outputs_inline_json_and_files() -> None:
    outputs = tools.parse_tool_outputs(
        ['call_a={"temp": 21, "sky": "clear"}', 'call_b="sunny"', "call_c=@result.txt", "call_d=[1, 2]"], _read
    )
    assert outputs == [
        {"type": "function_call_output", "call_id": "call_a", "output": '{"temp":21,"sky":"clear"}'},
        {"type": "function_call_output", "call_id": "call_b", "output": "sunny"},
        {"type": "function_call_output", "call_id": "call_c", "output": "plain text\n"},
        {"type": "function_call_output", "call_id": "call_d", "output": "[1,2]"},
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("call_a", "is not CALL_ID=JSON"),
        ('={"a": 1}', "is not CALL_ID=JSON"),
        ("call a={}", "is not a call id"),
        ("call_a={not json", "invalid JSON"),
        ("call_a=sunny", "invalid JSON"),
        ("call_a=@missing.json", "does not exist"),
    ],
)
def test_malformed_tool_outputs(value: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        tools.parse_tool_outputs([value], _read)
    assert message in caught.value.message


def test_a_call_id_given_twice_is_refused() -> None:
    with pytest.raises(UsageError, match="given twice"):
        tools.parse_tool_outputs(["c=1", "c=2"], _read)


def test_function_calls_and_pretty_arguments() -> None:
    response = {
        "output": [
            {"type": "reasoning", "summary": []},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": '{"a": [1]}'},
            {"type": "function_call", "call_id": "call_2", "name": "g", "arguments": "not json"},
        ]
    }
    calls = tools.function_calls(response)
    assert [(c.call_id, c.name) for c in calls] == [("call_1", "f"), ("call_2", "g")]
    assert calls[0].pretty_arguments() == '{\n  "a": [\n    1\n  ]\n}'
    assert calls[1].decoded_arguments() == "not json" == calls[1].pretty_arguments()


# -- the tool command -------------------------------------------------------------------------------------

ECHO_TOOL = """
import json, os, sys
call = json.load(sys.stdin)
leaked = [k for k in ("AZURE_OPENAI_API_KEY", "AOAI_ACCESS_TOKEN", "MY_MCP_TOKEN") if k in os.environ]
print(json.dumps({"call": call, "leaked": leaked, "name_env": os.environ["AOAI_TOOL_NAME"],
                  "id_env": os.environ["AOAI_TOOL_CALL_ID"], "kept": os.environ.get("KEEP")}))
"""


def _script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "tool.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def test_tool_command_gets_the_call_and_no_secret(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "AZURE_OPENAI_API_KEY": "k",
        "AOAI_ACCESS_TOKEN": "t",
        "MY_MCP_TOKEN": "m",
        "KEEP": "yes",
    }
    runner = tools.ToolCommand(_script(tmp_path, ECHO_TOOL), tools.child_environment(env, ["MY_MCP_TOKEN"]))
    result = json.loads(runner(CALL))
    assert result["call"] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": {"city": "Oslo"},
    }
    assert result["leaked"] == [] and result["kept"] == "yes"
    assert (result["name_env"], result["id_env"]) == ("get_weather", "call_1")


def test_tool_command_output_keeps_all_but_the_final_newline(tmp_path: Path) -> None:
    runner = tools.ToolCommand(_script(tmp_path, "print('a\\n\\nb')\nprint()"), {})
    assert runner(CALL) == "a\n\nb\n"


def test_tool_command_failures_stop_with_exit_1(tmp_path: Path) -> None:
    failing = tools.ToolCommand(
        _script(tmp_path, "import sys\nprint('boom: no city', file=sys.stderr)\nsys.exit(3)"), {}
    )
    with pytest.raises(tools.ToolCommandError) as caught:
        failing(CALL)
    assert caught.value.exit_code == ExitCode.NOT_READY
    assert "exited with status 3: boom: no city" in caught.value.message
    slow = tools.ToolCommand(_script(tmp_path, "import time\ntime.sleep(5)"), {}, timeout=0.2)
    with pytest.raises(tools.ToolCommandError, match=r"did not finish within 0\.2 s"):
        slow(CALL)


def test_parse_command(tmp_path: Path) -> None:
    assert tools.parse_command(f"{sys.executable} -c 'print(1)'", {"PATH": ""}) == [sys.executable, "-c", "print(1)"]
    assert tools.parse_command("sh -c true", {"PATH": "/usr/bin:/bin"})[0] == "sh"
    for value, message in (
        ("", "is empty"),
        ("'unclosed", "No closing quotation"),
        ("no-such-tool-xyz --flag", "not found on PATH"),
        (str(tmp_path / "missing.sh"), "not an executable file"),
    ):
        with pytest.raises(UsageError, match=message):
            tools.parse_command(value, {"PATH": "/usr/bin:/bin"})


# -- MCP ----------------------------------------------------------------------------------------------------


def test_mcp_tools_with_headers_from_the_environment() -> None:
    env = {"DOCS_AUTH": "Bearer s3cret"}
    built = tools.mcp_tools(
        ["docs=https://example.com/mcp", "wiki=https://wiki.example/mcp"],
        McpApproval.NEVER,
        ["docs:Authorization=DOCS_AUTH"],
        env,
    )
    assert built == [
        {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://example.com/mcp",
            "require_approval": "never",
            "headers": {"Authorization": "Bearer s3cret"},
        },
        {"type": "mcp", "server_label": "wiki", "server_url": "https://wiki.example/mcp", "require_approval": "never"},
    ]
    assert tools.secret_values(built) == ["Bearer s3cret"]
    assert tools.header_variables(["docs:Authorization=DOCS_AUTH"]) == ["DOCS_AUTH"]


@pytest.mark.parametrize(
    ("mcp", "headers", "message"),
    [
        (["docs"], [], "is not LABEL=URL"),
        (["my docs=https://x.example"], [], "a label is"),
        (["docs=http://x.example"], [], "is not an https:// URL"),
        (["docs=https://a.example", "docs=https://b.example"], [], "given twice"),
        (["docs=https://x.example"], ["docs:Authorization=Bearer abc"], "takes the NAME of an environment variable"),
        (["docs=https://x.example"], ["docs:Authorization=UNSET_VAR"], "UNSET_VAR is not set"),
        (["docs=https://x.example"], ["wiki:Authorization=DOCS_AUTH"], "no --mcp server is labelled 'wiki'"),
        (["docs=https://x.example"], ["docs:Bad Header=DOCS_AUTH"], "not a valid HTTP header name"),
        (["docs=https://x.example"], ["docs=DOCS_AUTH"], "is not LABEL:Header-Name=ENV_VAR"),
        ([], ["docs:Authorization=DOCS_AUTH"], "needs an --mcp server"),
    ],
)
def test_mcp_usage_errors(mcp: list[str], headers: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        tools.mcp_tools(mcp, McpApproval.ALWAYS, headers, {"DOCS_AUTH": "x"})
    assert message in caught.value.message


def test_reusable_tools_drop_nulls_and_take_headers_again() -> None:
    echoed = [
        {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://x.example",
            "headers": None,
            "require_approval": "always",
            "allowed_tools": None,
        },
        {"type": "function", "name": "f", "description": None, "parameters": {}, "strict": True},
    ]
    reused = tools.reusable_tools(echoed, ["docs:X-Key=K"], {"K": "v"})
    assert reused == [
        {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://x.example",
            "require_approval": "always",
            "headers": {"X-Key": "v"},
        },
        {"type": "function", "name": "f", "parameters": {}, "strict": True},
    ]
    assert tools.approval_response("mcpr_1", approve=False) == {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": False,
    }


# -- the loop -----------------------------------------------------------------------------------------------


def _calling(rid: str, *call_ids: str) -> dict[str, Any]:
    return {
        "id": rid,
        "output": [{"type": "function_call", "call_id": c, "name": "f", "arguments": "{}"} for c in call_ids],
    }


def _answer(rid: str) -> dict[str, Any]:
    return {"id": rid, "output": [{"type": "message", "role": "assistant", "content": []}]}


def test_rounds_chain_stored_responses_by_id() -> None:
    sent: list[dict[str, Any]] = []
    replies = iter([_calling("resp_2", "call_b"), _answer("resp_3")])

    def create(body: dict[str, Any]) -> dict[str, Any]:
        sent.append(body)
        return next(replies)

    body = {
        "model": "chat",
        "input": "hi",
        "tools": [{"type": "function", "name": "f"}],
        "stream": True,
        "instructions": "Be brief.",
    }
    seen: list[tuple[int, str]] = []
    final, rounds = tools.run_rounds(
        _calling("resp_1", "call_a", "call_x"),
        tools.Conversation.start(body),
        create=create,
        runner=lambda call: f"out-{call.call_id}",
        max_rounds=5,
        on_call=lambda n, call: seen.append((n, call.call_id)),
    )
    assert final["id"] == "resp_3" and rounds == 2
    assert seen == [(1, "call_a"), (1, "call_x"), (2, "call_b")]
    assert sent[0] == {
        "model": "chat",
        "tools": [{"type": "function", "name": "f"}],
        "instructions": "Be brief.",
        "previous_response_id": "resp_1",
        "input": [
            {"type": "function_call_output", "call_id": "call_a", "output": "out-call_a"},
            {"type": "function_call_output", "call_id": "call_x", "output": "out-call_x"},
        ],
    }
    assert sent[1]["previous_response_id"] == "resp_2" and "stream" not in sent[1]


def test_rounds_carry_every_item_when_not_stored() -> None:
    sent: list[dict[str, Any]] = []

    def create(body: dict[str, Any]) -> dict[str, Any]:
        sent.append(body)
        return _answer("resp_2")

    conversation = tools.Conversation.start({"model": "chat", "input": "hi", "store": False})
    first = _calling("resp_1", "call_a")
    final, _ = tools.run_rounds(first, conversation, create=create, runner=lambda c: "42", max_rounds=1)
    assert "previous_response_id" not in sent[0] and sent[0]["store"] is False
    assert sent[0]["input"] == [
        {"role": "user", "content": "hi"},
        first["output"][0],
        {"type": "function_call_output", "call_id": "call_a", "output": "42"},
    ]
    assert conversation.transcript(final) == [*sent[0]["input"], *final["output"]]


def test_rounds_stop_at_the_limit() -> None:
    with pytest.raises(tools.ToolCommandError) as caught:
        tools.run_rounds(
            _calling("resp_1", "call_a"),
            tools.Conversation.start({"model": "chat", "input": "hi"}),
            create=lambda body: _calling("resp_n", "call_again"),
            runner=lambda c: "x",
            max_rounds=2,
        )
    assert "stopped after 2 tool round(s): response resp_n still asks for f (call_again)" in caught.value.message


def test_follow_up_hint() -> None:
    response = {
        "id": "resp_9",
        "output": [
            {"type": "function_call", "call_id": "call_a", "name": "f", "arguments": "{}"},
            {
                "type": "mcp_approval_request",
                "id": "mcpr_1",
                "name": "search",
                "server_label": "docs",
                "arguments": "{}",
            },
        ],
    }
    assert tools.follow_up_hint(response, deployment="chat") == [
        "aoai resp create -m chat -p resp_9 --tool-output call_a=RESULT_JSON",
        "aoai resp approve resp_9 mcpr_1 -m chat",
    ]
    assert tools.follow_up_hint(response, deployment="chat", transcript="my chat.json")[0] == (
        "aoai resp create -m chat --continue 'my chat.json' --tool-output call_a=RESULT_JSON"
    )
