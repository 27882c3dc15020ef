"""What ``resp create``'s attachment, tool, MCP, image and transcript flags add to a turn.

``prepare_input`` and ``prepare`` run before anything is sent and raise ``UsageError`` for every
bad flag; ``finish`` runs once the final response is known (images written, transcript saved).
The CLI stays a thin caller: it builds ``TurnFlags`` from its options, calls these, and renders.

Order of a turn's input: the ``--continue`` transcript, then ``--tool-output`` items, then the user
message (TEXT or ``--input-file``, with ``--file`` / ``--image`` parts in it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aoai.atomicfile import write_file
from aoai.auth import register_secret
from aoai.errors import UsageError
from aoai.responses import Include, McpApproval, attachments, images, tools, transcript

ReadText = Callable[[str], str]


@dataclass
class TurnFlags:
    """The raw values of the flags this module handles (None / empty when not given)."""

    files: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    tool_outputs: list[str] = field(default_factory=list)
    exec_tools: str | None = None
    max_tool_rounds: int | None = None
    tool_timeout: float | None = None
    mcp: list[str] = field(default_factory=list)
    mcp_approval: McpApproval | None = None
    mcp_headers: list[str] = field(default_factory=list)
    image_deployment: str | None = None
    save_images: str | None = None
    continue_file: str | None = None


@dataclass
class Prepared:
    """A turn ready to send, and what to do once it is answered."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    runner: tools.ToolCommand | None = None
    max_rounds: int = tools.DEFAULT_MAX_TOOL_ROUNDS
    transcript: Path | None = None
    images_dir: Path | None = None
    secrets: list[str] = field(default_factory=list)
    conversation: tools.Conversation | None = None


def check_flags(
    flags: TurnFlags,
    *,
    previous_response_id: str | None,
    input_file: str | None,
    store: bool | None,
    background: bool,
    stream: bool | None,
    wait: bool = False,
) -> None:
    """Combinations that cannot work, refused before any file is read."""
    if flags.save_images is not None and background and not wait:
        raise UsageError("--save-images with --background needs --wait", hint="the images arrive with the result")
    if flags.continue_file is not None:
        for given, flag in (
            (previous_response_id is not None, "-p/--previous-response-id"),
            (input_file is not None, "--input-file"),
            (store is True, "--store"),
            (background, "--background"),
        ):
            if given:
                raise UsageError(
                    f"--continue and {flag} do not go together",
                    hint="--continue FILE keeps the conversation in FILE and sends it with store=false",
                )
    if flags.exec_tools is not None:
        if background:
            raise UsageError(
                "--exec-tools and --background do not go together",
                hint="tool rounds answer each call as it comes; drop --background",
            )
        if stream:
            raise UsageError("--exec-tools runs each round without streaming", hint="drop --stream")
    else:
        for given, flag in (
            (flags.max_tool_rounds is not None, "--max-tool-rounds"),
            (flags.tool_timeout is not None, "--tool-timeout"),
        ):
            if given:
                raise UsageError(f"{flag} applies to --exec-tools")
    if flags.mcp_approval is not None and not flags.mcp:
        raise UsageError("--mcp-approval applies to --mcp servers")
    if flags.image_deployment is not None:
        if not flags.image_deployment.strip():
            raise UsageError("--image-deployment is empty", hint="give the name of a gpt-image-1 series deployment")
        if stream:
            raise UsageError(
                "image generation cannot be streamed on Azure OpenAI",
                hint="drop --stream (--image-deployment turns streaming off)",
            )


def prepare_input(
    text_input: str | list[dict[str, Any]] | None,
    flags: TurnFlags,
    read_text: ReadText,
    notify: Callable[[str], None] | None = None,
) -> tuple[str | list[dict[str, Any]] | None, Path | None]:
    """The turn's ``input`` (transcript + tool outputs + the message with its attachments), and
    the transcript path when ``--continue`` is used."""
    loaded = attachments.load_all(flags.files, flags.images)
    message = attachments.attach(text_input, loaded)
    outputs = tools.parse_tool_outputs(flags.tool_outputs, read_text)
    path: Path | None = None
    earlier: list[dict[str, Any]] = []
    if flags.continue_file is not None:
        path = Path(flags.continue_file).expanduser()
        earlier = transcript.load(path, notify=notify)
        if message is None and not outputs:
            raise UsageError("no new turn to add", hint=f"give TEXT (or --tool-output) to continue {path}")
    if path is None and not outputs:
        return message, path
    return [*earlier, *outputs, *transcript.as_items(message)], path


def prepare(
    body: dict[str, Any],
    flags: TurnFlags,
    *,
    transcript_path: Path | None,
    env: Mapping[str, str],
    cwd: str | None = None,
) -> Prepared:
    """Add MCP and image tools, headers, the stateless settings of ``--continue``; build the runner."""
    body = dict(body)
    added: list[dict[str, Any]] = tools.mcp_tools(
        flags.mcp, flags.mcp_approval or McpApproval.ALWAYS, flags.mcp_headers, env
    )
    headers: dict[str, str] = {}
    if flags.image_deployment is not None:
        existing = body.get("tools") or []
        if not any(isinstance(t, dict) and t.get("type") == "image_generation" for t in existing):
            added.append(images.image_tool())
        headers[images.IMAGE_HEADER] = flags.image_deployment.strip()
    if added:
        body["tools"] = [*(body.get("tools") or []), *added]
    if transcript_path is not None:
        body["store"] = False
        include = list(body.get("include") or [])
        if Include.REASONING_ENCRYPTED.value not in include:
            include.append(Include.REASONING_ENCRYPTED.value)
        body["include"] = include
    runner = None
    if flags.exec_tools is not None:
        argv = tools.parse_command(flags.exec_tools, env)
        hidden = tools.header_variables(flags.mcp_headers)
        runner = tools.ToolCommand(
            argv,
            tools.child_environment(env, hidden),
            timeout=flags.tool_timeout if flags.tool_timeout is not None else tools.DEFAULT_TOOL_TIMEOUT,
            cwd=cwd,
        )
    images_dir = images.check_directory(flags.save_images) if flags.save_images is not None else None
    secrets = tools.secret_values(body.get("tools") or [])
    for secret in secrets:
        register_secret(secret)  # MCP header values: redacted from every log and message from now on
    return Prepared(
        body=body,
        headers=headers,
        runner=runner,
        max_rounds=flags.max_tool_rounds if flags.max_tool_rounds is not None else tools.DEFAULT_MAX_TOOL_ROUNDS,
        transcript=transcript_path,
        images_dir=images_dir,
        secrets=secrets,
        conversation=tools.Conversation.start(body),
    )


@dataclass
class Finished:
    """What ``finish`` did: the image files written and whether the transcript was saved."""

    image_paths: list[Path] = field(default_factory=list)
    unsaved_images: int = 0
    transcript: Path | None = None


def finish(prepared: Prepared, response: Mapping[str, Any]) -> Finished:
    """After the final response: write images (``--save-images``) and the transcript (``--continue``,
    unless the response failed or was cancelled)."""
    done = Finished()
    if prepared.images_dir is not None:
        done.image_paths = images.save_images(response, prepared.images_dir)
    else:
        done.unsaved_images = len(images.generated_images(response))
    # A failed or cancelled turn is not kept: the file stays as it was, so the turn can be retried.
    kept = response.get("status") not in ("failed", "cancelled")
    if prepared.transcript is not None and prepared.conversation is not None and kept:
        transcript.save(prepared.transcript, prepared.conversation.transcript(response))
        done.transcript = prepared.transcript
    return done


def approval_body(
    previous: Mapping[str, Any],
    request_ids: Sequence[str],
    *,
    approve: bool,
    deployment: str,
    header_values: Sequence[str],
    env: Mapping[str, str],
) -> dict[str, Any]:
    """``aoai resp approve``: a follow-up turn answering approval requests of ``previous``."""
    known = {str(item.get("id")): item for item in tools.approval_requests(previous)}
    for request_id in request_ids:
        if request_id not in known:
            listed = ", ".join(known) or "none"
            raise UsageError(
                f"response {previous.get('id')} has no MCP approval request {request_id}",
                hint=f"its approval requests: {listed}",
            )
    body: dict[str, Any] = {
        "model": deployment,
        "previous_response_id": previous.get("id"),
        "input": [tools.approval_response(r, approve=approve) for r in request_ids],
    }
    reused = tools.reusable_tools(previous.get("tools"), header_values, env)
    if reused:
        body["tools"] = reused
    return body


def compact_target(save: str | None) -> Path | None:
    """``aoai resp compact --save FILE``: where to write, refused before anything is sent."""
    target = Path(save).expanduser() if save else None
    if target is not None and not target.parent.is_dir():
        raise UsageError(f"--save {save}: the folder {target.parent} does not exist")
    return target


def save_compacted(target: Path, result: Mapping[str, Any]) -> None:
    """The compacted output items as JSON, ready for ``create --input-file`` (replaced in one step)."""
    text = json.dumps(result.get("output") or [], indent=2, ensure_ascii=False) + "\n"
    write_file(target, text, what="--save", private=True)
