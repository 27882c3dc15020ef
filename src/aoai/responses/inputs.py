"""From command-line values to request bodies, validating everything before anything is sent.

Every function here is pure (files are read through the ``read_text`` argument) and raises
``UsageError`` with one line saying what is wrong and where, so a bad ``--tool``, ``--param`` or
``--input-file`` stops the command with exit 2 before a request leaves the machine.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from aoai import userinput, validation
from aoai.errors import UsageError

ReadText = Callable[[str], str]  # "-" means standard input

TOOL_CHOICE_MODES = ("none", "auto", "required")
METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY = 64
METADATA_MAX_VALUE = 512
_PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Body fields that have a flag of their own: --param may not set them (one way to say each thing).
FLAG_FIELDS = {
    "model": "-m/--model",
    "input": "TEXT or --input-file",
    "instructions": "-i/--instructions",
    "previous_response_id": "-p/--previous-response-id",
    "stream": "--stream/--no-stream",
    "background": "--background",
    "store": "--store/--no-store",
    "tools": "--tool",
    "tool_choice": "--tool-choice",
    "include": "--include",
    "max_output_tokens": "--max-output-tokens",
}


def read_text_file(path: str, *, stdin: Callable[[], IO[bytes]] | None = None) -> str:
    """A file (``-`` for standard input) as UTF-8 text, size-capped (``aoai.userinput``)."""
    where = "standard input" if path == userinput.STDIN else path
    if stdin is None:
        return userinput.read_text(path, where=where)
    return userinput.read_text(path, where=where, stdin=stdin)


def stdin_of(text: str) -> Callable[[], IO[bytes]]:
    """A stand-in standard input holding ``text`` (tests, the demo)."""
    return lambda: io.BytesIO(text.encode("utf-8"))


def parse_input(raw: str, where: str) -> str | list[dict[str, Any]]:
    """Plain text, one input item (a JSON object) or a JSON list of input items."""
    stripped = raw.strip()
    if not stripped:
        raise UsageError(f"the input from {where} is empty")
    if stripped[0] not in "[{":
        return raw
    value = userinput.parse_json(stripped, where)
    items = [value] if isinstance(value, dict) else value
    if not items:
        raise UsageError(f"the input list in {where} is empty")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise UsageError(f"input item {index} in {where} is {type(item).__name__}, not a JSON object")
    return list(items)


def resolve_input(text: str | None, input_file: str | None, read_text: ReadText) -> str | list[dict[str, Any]] | None:
    """The ``input`` field from TEXT or ``--input-file`` (never both)."""
    if text is not None and input_file is not None:
        raise UsageError("give the input either as TEXT or with --input-file, not both")
    if input_file is not None:
        where = "standard input" if input_file == "-" else f"--input-file {input_file}"
        return parse_input(read_text(input_file), where)
    if text is not None:
        if not text.strip():
            raise UsageError("the input TEXT is empty")
        return text
    return None


def parse_tool(value: str, read_text: ReadText) -> list[dict[str, Any]]:
    """``--tool JSON`` or ``--tool @FILE``: one tool object, or a list of them."""
    where = f"--tool {value}" if value.startswith("@") else "--tool"
    raw = read_text(value[1:]) if value.startswith("@") else value
    parsed = userinput.parse_json(raw, where)
    tools = parsed if isinstance(parsed, list) else [parsed]
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise UsageError(
                f'{where}: a tool is a JSON object with a "type"',
                hint='e.g. --tool \'{"type": "function", "name": "get_weather", "parameters": {...}}\'',
            )
    return tools


def parse_tool_choice(value: str, tools: Sequence[Mapping[str, Any]]) -> str | dict[str, Any]:
    """``none``, ``auto``, ``required``, a function tool's name, or a JSON object."""
    if value in TOOL_CHOICE_MODES:
        return value
    if value.lstrip().startswith("{"):
        parsed = userinput.parse_json(value, "--tool-choice")
        if not isinstance(parsed, dict) or "type" not in parsed:
            raise UsageError('--tool-choice JSON must be an object with a "type"')
        return parsed
    names = [t.get("name") for t in tools if t.get("type") == "function"]
    if value in names:
        return {"type": "function", "name": value}
    known = ", ".join(TOOL_CHOICE_MODES + tuple(str(n) for n in names if n))
    raise UsageError(f"unknown --tool-choice {value!r}", hint=f"use one of: {known}, or a JSON object")


def parse_metadata(values: Sequence[str]) -> dict[str, str]:
    """``--metadata KEY=VALUE`` pairs (at most 16; keys up to 64 characters, values up to 512)."""
    metadata: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata {item!r} is not KEY=VALUE")
        if len(key) > METADATA_MAX_KEY or len(value) > METADATA_MAX_VALUE:
            raise UsageError(
                f"--metadata {key[:20]}…: keys are at most {METADATA_MAX_KEY} characters, "
                f"values at most {METADATA_MAX_VALUE}"
            )
        if key in metadata:
            raise UsageError(f"--metadata {key} is given twice")
        metadata[key] = value
    if len(metadata) > METADATA_MAX_PAIRS:
        raise UsageError(f"--metadata takes at most {METADATA_MAX_PAIRS} pairs, got {len(metadata)}")
    return metadata


def parse_params(values: Sequence[str]) -> dict[str, Any]:
    """``--param KEY=JSON`` (KEY may be dotted: ``reasoning.summary="auto"``) as a nested dict."""
    result: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not _PARAM_KEY.match(key):
            raise UsageError(
                f"--param {item!r} is not KEY=JSON", hint="e.g. --param temperature=0.2 --param user='\"me\"'"
            )
        if key.split(".")[0] in FLAG_FIELDS:
            raise UsageError(f"--param {key}: use {FLAG_FIELDS[key.split('.')[0]]} for that")
        try:
            value = userinput.parse_json(raw, f"--param {key}")
        except UsageError as exc:
            exc.hint = exc.hint or "strings need JSON quotes, e.g. --param user='\"me\"'"
            raise
        target = result
        *parents, leaf = key.split(".")
        for name in parents:
            child = target.setdefault(name, {})
            if not isinstance(child, dict):
                raise UsageError(f"--param {key} conflicts with --param {name}")
            target = child
        if leaf in target:
            raise UsageError(f"--param {key} is given twice")
        target[leaf] = value
    return result


def merge_params(body: dict[str, Any], params: Mapping[str, Any], path: str = "") -> None:
    """Merge ``--param`` values into a body; objects merge key by key, anything else may not clash."""
    for key, value in params.items():
        name = f"{path}{key}"
        if key not in body:
            body[key] = value
        elif isinstance(body[key], dict) and isinstance(value, dict):
            merge_params(body[key], value, f"{name}.")
        else:
            raise UsageError(f"--param {name} clashes with a value another option already sets")


@dataclass
class CreateOptions:
    """Everything ``aoai resp create`` can put in a request body."""

    model: str
    input: str | list[dict[str, Any]] | None
    instructions: str | None = None
    previous_response_id: str | None = None
    background: bool = False
    store: bool | None = None
    tools: list[str] = field(default_factory=list)  # raw --tool values
    tool_choice: str | None = None
    include: list[str] = field(default_factory=list)
    reasoning_effort: str | None = None
    max_output_tokens: int | None = None
    metadata: list[str] = field(default_factory=list)
    compact_threshold: int | None = None
    params: list[str] = field(default_factory=list)


def build_create_body(options: CreateOptions, read_text: ReadText) -> dict[str, Any]:
    """The ``POST /responses`` body (without ``stream``, which the caller decides)."""
    if not options.model.strip():
        raise UsageError("-m/--model is empty", hint="give the deployment name")
    params = parse_params(options.params)
    if options.input is None and not ({"prompt", "conversation"} & params.keys()):
        raise UsageError("no input", hint="give TEXT, or --input-file PATH (- for standard input)")
    if options.background and options.store is False:
        raise UsageError("--background needs the response stored", hint="drop --no-store")
    body: dict[str, Any] = {"model": options.model}
    if options.input is not None:
        body["input"] = options.input
    if options.instructions is not None:
        body["instructions"] = options.instructions
    if options.previous_response_id is not None:
        body["previous_response_id"] = check_response_id(options.previous_response_id, "-p/--previous-response-id")
    if options.background:
        body["background"] = True
    if options.store is not None:
        body["store"] = options.store
    tools: list[dict[str, Any]] = []
    for raw in options.tools:
        tools.extend(parse_tool(raw, read_text))
    if tools:
        body["tools"] = tools
    if options.tool_choice is not None:
        body["tool_choice"] = parse_tool_choice(options.tool_choice, tools)
    if options.include:
        body["include"] = list(dict.fromkeys(options.include))
    if options.reasoning_effort is not None:
        body["reasoning"] = {"effort": options.reasoning_effort}
    if options.max_output_tokens is not None:
        body["max_output_tokens"] = options.max_output_tokens
    metadata = parse_metadata(options.metadata)
    if metadata:
        body["metadata"] = metadata
    if options.compact_threshold is not None:
        body["context_management"] = [{"type": "compaction", "compact_threshold": options.compact_threshold}]
    merge_params(body, params)
    return body


def build_compact_body(
    *,
    model: str,
    input: str | list[dict[str, Any]] | None,
    previous_response_id: str | None,
    instructions: str | None,
) -> dict[str, Any]:
    """The ``POST /responses/compact`` body: a previous response, input items, or both."""
    if not model.strip():
        raise UsageError("-m/--model is empty", hint="give the deployment name")
    if input is None and previous_response_id is None:
        raise UsageError(
            "nothing to compact", hint="give -p RESPONSE_ID, --input-file PATH (- for standard input) or TEXT"
        )
    body: dict[str, Any] = {"model": model}
    if input is not None:
        body["input"] = input
    if previous_response_id is not None:
        body["previous_response_id"] = check_response_id(previous_response_id, "-p/--previous-response-id")
    if instructions is not None:
        body["instructions"] = instructions
    return body


def check_response_id(value: str, what: str | None = None) -> str:
    """A response id that is safe in a URL path (``aoai.validation``)."""
    return validation.response_id(value, what)
