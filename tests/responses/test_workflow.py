"""How the attachment / tool / MCP / image / transcript flags shape a turn, before and after sending."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from aoai.errors import UsageError
from aoai.responses import McpApproval, tools, workflow

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def _read(path: str) -> str:
    return Path(path).read_text()


def test_input_order_transcript_outputs_then_message(tmp_path: Path) -> None:
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps([{"role": "user", "content": "first"}]))
    image = tmp_path / "i.png"
    image.write_bytes(PNG)
    flags = workflow.TurnFlags(images=[str(image)], tool_outputs=['call_1={"ok":true}'], continue_file=str(chat))
    value, path = workflow.prepare_input("second", flags, _read)
    assert path == chat
    assert isinstance(value, list)
    assert [item.get("role") or item.get("type") for item in value] == ["user", "function_call_output", "user"]
    assert value[2]["content"][0] == {"type": "input_text", "text": "second"}
    assert value[2]["content"][1]["image_url"].startswith("data:image/png;base64,")
    # nothing extra: the input is returned as given
    assert workflow.prepare_input("plain", workflow.TurnFlags(), _read) == ("plain", None)


def test_continue_needs_a_new_turn(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no new turn"):
        workflow.prepare_input(None, workflow.TurnFlags(continue_file=str(tmp_path / "c.json")), _read)


def test_prepare_adds_tools_headers_and_stateless_settings(tmp_path: Path) -> None:
    flags = workflow.TurnFlags(
        mcp=["docs=https://docs.example/mcp"],
        mcp_approval=McpApproval.NEVER,
        mcp_headers=["docs:Authorization=DOCS_TOKEN"],
        image_deployment=" gpt-image-1 ",
        save_images=str(tmp_path / "img"),
        exec_tools=f"{sys.executable} -c pass",
        max_tool_rounds=3,
    )
    env = {"DOCS_TOKEN": "Bearer t0k", "AZURE_OPENAI_API_KEY": "key", "PATH": ""}
    body = {"model": "chat", "input": "hi", "tools": [{"type": "function", "name": "f"}], "include": ["x"]}
    prepared = workflow.prepare(body, flags, transcript_path=tmp_path / "c.json", env=env)
    assert [t["type"] for t in prepared.body["tools"]] == ["function", "mcp", "image_generation"]
    assert prepared.body["tools"][1]["headers"] == {"Authorization": "Bearer t0k"}
    assert prepared.headers == {"x-ms-oai-image-generation-deployment": "gpt-image-1"}
    assert prepared.body["store"] is False and prepared.body["include"] == ["x", "reasoning.encrypted_content"]
    assert prepared.secrets == ["Bearer t0k"] and prepared.max_rounds == 3
    assert prepared.images_dir == tmp_path / "img"
    assert prepared.runner is not None and "AZURE_OPENAI_API_KEY" not in prepared.runner.env
    assert "DOCS_TOKEN" not in prepared.runner.env
    assert body["tools"] == [{"type": "function", "name": "f"}]  # the caller's body is not changed


@pytest.mark.parametrize(
    ("flags", "kwargs", "message"),
    [
        (workflow.TurnFlags(continue_file="c.json"), {"previous_response_id": "resp_1"}, "--continue and -p"),
        (workflow.TurnFlags(continue_file="c.json"), {"store": True}, "--continue and --store"),
        (workflow.TurnFlags(continue_file="c.json"), {"background": True}, "--continue and --background"),
        (workflow.TurnFlags(continue_file="c.json"), {"input_file": "x"}, "--continue and --input-file"),
        (workflow.TurnFlags(exec_tools="true"), {"stream": True}, "without streaming"),
        (workflow.TurnFlags(exec_tools="true"), {"background": True}, "--exec-tools and --background"),
        (workflow.TurnFlags(max_tool_rounds=2), {}, "--max-tool-rounds applies to --exec-tools"),
        (workflow.TurnFlags(mcp_approval=McpApproval.NEVER), {}, "--mcp-approval applies"),
        (workflow.TurnFlags(image_deployment="img"), {"stream": True}, "cannot be streamed"),
        (workflow.TurnFlags(image_deployment=" "), {}, "--image-deployment is empty"),
    ],
)
def test_conflicting_flags(flags: workflow.TurnFlags, kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "previous_response_id": None,
        "input_file": None,
        "store": None,
        "background": False,
        "stream": None,
        **kwargs,
    }
    with pytest.raises(UsageError) as caught:
        workflow.check_flags(flags, **arguments)
    assert message in caught.value.message


def test_finish_saves_images_and_the_transcript(tmp_path: Path) -> None:
    body = {"model": "chat", "input": [{"role": "user", "content": "draw"}], "store": False}
    prepared = workflow.Prepared(
        body=body,
        transcript=tmp_path / "c.json",
        images_dir=tmp_path / "img",
        conversation=tools.Conversation.start(body),
    )
    output = [{"id": "ig_1", "type": "image_generation_call", "result": base64.b64encode(PNG).decode()}]
    done = workflow.finish(prepared, {"id": "resp_1", "output": output})
    assert [p.name for p in done.image_paths] == ["ig_1.png"]
    assert json.loads((tmp_path / "c.json").read_text()) == [{"role": "user", "content": "draw"}, *output]
    unsaved = workflow.finish(workflow.Prepared(body=body), {"output": output})
    assert unsaved.unsaved_images == 1 and unsaved.transcript is None
    # a failed turn leaves the transcript as it was
    failed = workflow.finish(prepared, {"id": "resp_2", "status": "failed", "output": []})
    assert failed.transcript is None
    assert len(json.loads((tmp_path / "c.json").read_text())) == 2


def test_approval_body() -> None:
    previous = {
        "id": "resp_1",
        "tools": [{"type": "mcp", "server_label": "docs", "server_url": "https://d.example", "headers": None}],
        "output": [{"type": "mcp_approval_request", "id": "mcpr_1", "name": "search", "server_label": "docs"}],
    }
    body = workflow.approval_body(previous, ["mcpr_1"], approve=False, deployment="chat", header_values=[], env={})
    assert body == {
        "model": "chat",
        "previous_response_id": "resp_1",
        "input": [{"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": False}],
        "tools": [{"type": "mcp", "server_label": "docs", "server_url": "https://d.example"}],
    }
    with pytest.raises(UsageError, match="has no MCP approval request mcpr_2"):
        workflow.approval_body(previous, ["mcpr_2"], approve=True, deployment="chat", header_values=[], env={})
