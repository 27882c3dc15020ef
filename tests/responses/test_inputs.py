"""Flags and files to request bodies: every bad value is one UsageError line (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aoai.errors import ExitCode, UsageError
from aoai.responses.inputs import (
    CreateOptions,
    build_compact_body,
    build_create_body,
    check_response_id,
    parse_input,
    parse_metadata,
    parse_params,
    parse_tool,
    parse_tool_choice,
    read_text_file,
    resolve_input,
    stdin_of,
)

WEATHER = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}


def no_files(path: str) -> str:
    raise AssertionError(f"unexpected read of {path}")


def test_input_forms() -> None:
    assert parse_input("just text\n", "x") == "just text\n"
    assert parse_input('{"role": "user", "content": "hi"}', "x") == [{"role": "user", "content": "hi"}]
    items = [{"role": "user", "content": "a"}, {"type": "compaction", "encrypted_content": "z"}]
    assert parse_input(json.dumps(items), "x") == items


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("   ", "is empty"),
        ("[]", "list in f is empty"),
        ('[{"role": "user"}, 3]', "input item 1 in f is int"),
        ('{"role": "user",', "invalid JSON in f: "),
    ],
)
def test_bad_input(raw: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_input(raw, "f")
    assert info.value.exit_code == ExitCode.USAGE
    assert "\n" not in info.value.one_line()


def test_invalid_json_says_where() -> None:
    with pytest.raises(UsageError, match=r"line 2 column 1"):
        parse_input('[{"a": 1},\n]', "--input-file x.json")


def test_resolve_input(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("from a file", encoding="utf-8")

    def read(p: str) -> str:
        return read_text_file(p, stdin=stdin_of("from stdin"))

    assert resolve_input(None, str(path), read) == "from a file"
    assert resolve_input(None, "-", read) == "from stdin"
    assert resolve_input("text", None, read) == "text"
    assert resolve_input(None, None, read) is None
    with pytest.raises(UsageError, match="not both"):
        resolve_input("text", str(path), read)
    with pytest.raises(UsageError, match="does not exist"):
        resolve_input(None, str(tmp_path / "missing"), read)
    with pytest.raises(UsageError, match="TEXT is empty"):
        resolve_input("  ", None, read)


def test_tools(tmp_path: Path) -> None:
    tool_file = tmp_path / "tool.json"
    tool_file.write_text(json.dumps([WEATHER, {"type": "web_search_preview"}]), encoding="utf-8")
    assert parse_tool(json.dumps(WEATHER), no_files) == [WEATHER]
    assert len(parse_tool(f"@{tool_file}", lambda p: Path(p).read_text())) == 2
    with pytest.raises(UsageError, match="invalid JSON in --tool"):
        parse_tool("{type: function}", no_files)
    with pytest.raises(UsageError, match='a tool is a JSON object with a "type"'):
        parse_tool('{"name": "x"}', no_files)


def test_tool_choice() -> None:
    assert parse_tool_choice("auto", []) == "auto"
    assert parse_tool_choice("get_weather", [WEATHER]) == {"type": "function", "name": "get_weather"}
    assert parse_tool_choice('{"type": "web_search_preview"}', []) == {"type": "web_search_preview"}
    with pytest.raises(UsageError, match="unknown --tool-choice 'requird'"):
        parse_tool_choice("requird", [WEATHER])


def test_metadata() -> None:
    assert parse_metadata(["team=core", "ticket=A-1=2"]) == {"team": "core", "ticket": "A-1=2"}
    for bad, message in [
        (["novalue"], "not KEY=VALUE"),
        (["=x"], "not KEY=VALUE"),
        (["a=1", "a=2"], "given twice"),
        ([f"k{i}=v" for i in range(17)], "at most 16"),
        (["k" * 65 + "=v"], "at most 64"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_metadata(bad)


def test_params() -> None:
    assert parse_params(["temperature=0.2", 'reasoning.summary="auto"', 'text.format.type="text"']) == {
        "temperature": 0.2,
        "reasoning": {"summary": "auto"},
        "text": {"format": {"type": "text"}},
    }
    for bad, message in [
        (["temperature"], "not KEY=JSON"),
        (["user=me"], "invalid JSON in --param user"),
        (["stream=true"], "use --stream/--no-stream"),
        (['model="x"'], "use -m/--model"),
        (["a=1", "a=2"], "given twice"),
        (["a=1", "a.b=2"], "conflicts with --param a"),
        (["9x=1"], "not KEY=JSON"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_params(bad)


def test_create_body() -> None:
    options = CreateOptions(
        model="chat",
        input="hello",
        instructions="be brief",
        previous_response_id="resp_1",
        background=True,
        store=True,
        tools=[json.dumps(WEATHER)],
        tool_choice="get_weather",
        include=["reasoning.encrypted_content", "reasoning.encrypted_content"],
        reasoning_effort="high",
        max_output_tokens=64,
        metadata=["team=core"],
        compact_threshold=5000,
        params=["temperature=0.2", 'reasoning.summary="auto"'],
    )
    assert build_create_body(options, no_files) == {
        "model": "chat",
        "input": "hello",
        "instructions": "be brief",
        "previous_response_id": "resp_1",
        "background": True,
        "store": True,
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "include": ["reasoning.encrypted_content"],
        "reasoning": {"effort": "high", "summary": "auto"},
        "max_output_tokens": 64,
        "metadata": {"team": "core"},
        "context_management": [{"type": "compaction", "compact_threshold": 5000}],
        "temperature": 0.2,
    }


def test_create_body_rules() -> None:
    with pytest.raises(UsageError, match="no input"):
        build_create_body(CreateOptions(model="chat", input=None), no_files)
    assert "input" not in build_create_body(
        CreateOptions(model="chat", input=None, params=['prompt={"id": "p"}']), no_files
    )
    with pytest.raises(UsageError, match="--background needs the response stored"):
        build_create_body(CreateOptions(model="chat", input="x", background=True, store=False), no_files)
    with pytest.raises(UsageError, match="clashes"):
        build_create_body(
            CreateOptions(model="chat", input="x", compact_threshold=2000, params=["context_management=[]"]), no_files
        )
    with pytest.raises(UsageError, match="-m/--model is empty"):
        build_create_body(CreateOptions(model=" ", input="x"), no_files)


def test_compact_body() -> None:
    assert build_compact_body(model="chat", input=None, previous_response_id="resp_1", instructions=None) == {
        "model": "chat",
        "previous_response_id": "resp_1",
    }
    with pytest.raises(UsageError, match="nothing to compact"):
        build_compact_body(model="chat", input=None, previous_response_id=None, instructions=None)


@pytest.mark.parametrize("bad", ["", "resp 1", "resp_1/cancel", "\t"])
def test_response_ids(bad: str) -> None:
    assert check_response_id("resp_abc") == "resp_abc"
    with pytest.raises(UsageError):
        check_response_id(bad)
