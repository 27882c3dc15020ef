"""Tool calling from the command line: function call outputs, local tool commands, MCP servers and
their approvals, and the loop that answers function calls until the model answers the user.

Nothing here talks HTTP: the loop gets a ``create`` callable, so it runs against a fake in tests.

Safety rules, all enforced here:

- ``--tool-output CALL_ID=JSON`` must be valid JSON (``CALL_ID=@FILE`` sends the file's text as is);
  a malformed value is a usage error before anything is sent.
- ``--exec-tools CMD`` is opt-in. CMD is split like a shell would (``shlex``) but run without a
  shell, once per call, with the call as JSON on stdin (``{"type", "call_id", "name", "arguments"}``,
  ``arguments`` decoded) and ``AOAI_TOOL_NAME`` / ``AOAI_TOOL_CALL_ID`` set; its stdout (one final
  newline dropped) is the output. The child never sees the API key, the access token, client
  secrets or the MCP header variables. A non-zero exit, a timeout, or ``--max-tool-rounds`` reached
  with calls still pending stops the command (exit 1) and says how to continue by hand.
- MCP headers come only from environment variables named on the command line
  (``--mcp-header LABEL:Header-Name=ENV_VAR``); their values are registered as secrets, so the
  redaction filter hides them, and the service never echoes them back.
"""

from __future__ import annotations

import json
import os
import re
import select
import selectors
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aoai import userinput
from aoai.errors import AoaiError, ExitCode, UsageError
from aoai.responses import McpApproval

DEFAULT_TOOL_TIMEOUT = 60.0
DEFAULT_MAX_TOOL_ROUNDS = 8
_CALL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Never handed to a tool command: credentials of this tool and of the Azure SDK credential chain.
SECRET_ENV = frozenset(
    {
        "AZURE_OPENAI_API_KEY",
        "AOAI_ACCESS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_PASSWORD",
        "IDENTITY_HEADER",
        "MSI_SECRET",
    }
)


class ToolCommandError(AoaiError):
    """A tool round could not finish: the command failed or timed out, or the round limit was hit."""

    exit_code = ExitCode.NOT_READY


# -- function calls and their outputs -------------------------------------------------------------


@dataclass(frozen=True)
class FunctionCall:
    call_id: str
    name: str
    arguments: str  # JSON text, as the model wrote it

    def decoded_arguments(self) -> Any:
        try:
            return json.loads(self.arguments)
        except ValueError:
            return self.arguments

    def pretty_arguments(self) -> str:
        decoded = self.decoded_arguments()
        if isinstance(decoded, str):
            return decoded
        return json.dumps(decoded, indent=2, ensure_ascii=False)


def function_calls(response: Mapping[str, Any]) -> list[FunctionCall]:
    """The ``function_call`` items of a response's output, in order."""
    calls = []
    for item in response.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "function_call":
            calls.append(FunctionCall(str(item.get("call_id")), str(item.get("name")), str(item.get("arguments", ""))))
    return calls


def function_call_output(call_id: str, output: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def parse_tool_outputs(values: Sequence[str], read_text: Callable[[str], str]) -> list[dict[str, Any]]:
    """``--tool-output CALL_ID=JSON`` / ``CALL_ID=@FILE`` as ``function_call_output`` items.

    Inline JSON is sent compact (a JSON string as its text); a file's text is sent unchanged."""
    outputs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for value in values:
        call_id, sep, raw = value.partition("=")
        call_id = call_id.strip()
        if not sep or not call_id:
            raise UsageError(
                f"--tool-output {value!r} is not CALL_ID=JSON",
                hint="e.g. --tool-output call_abc='{\"temperature\": 21}' or --tool-output call_abc=@result.json",
            )
        if not _CALL_ID.match(call_id):
            raise UsageError(f"--tool-output: {call_id!r} is not a call id", hint="call ids look like call_0a1b2c…")
        if call_id in seen:
            raise UsageError(f"--tool-output {call_id} is given twice")
        seen.add(call_id)
        if raw.startswith("@"):
            output = read_text(raw[1:])
        else:
            try:
                decoded = userinput.parse_json(raw, f"--tool-output {call_id}")
            except UsageError as exc:
                exc.hint = exc.hint or (
                    "quote it for the shell, e.g. --tool-output call_abc='{\"ok\": true}'; text needs JSON quotes"
                )
                raise
            output = decoded if isinstance(decoded, str) else json.dumps(decoded, separators=(",", ":"))
        outputs.append(function_call_output(call_id, output))
    return outputs


# -- running a local tool command -------------------------------------------------------------------


def parse_command(value: str, env: Mapping[str, str]) -> list[str]:
    """``--exec-tools CMD`` as an argv, checked to exist before anything is sent."""
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"--exec-tools {value!r}: {exc}") from exc
    if not argv:
        raise UsageError("--exec-tools is empty", hint="give the command that answers tool calls")
    program = argv[0]
    if os.sep in program or (os.altsep and os.altsep in program):
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            raise UsageError(f"--exec-tools: {program} is not an executable file")
    elif shutil.which(program, path=env.get("PATH")) is None:
        raise UsageError(f"--exec-tools: command {program!r} not found on PATH")
    return argv


def child_environment(env: Mapping[str, str], hidden: Sequence[str] = ()) -> dict[str, str]:
    """The environment of a tool command: ours minus every credential and the named variables."""
    blocked = SECRET_ENV | set(hidden)
    return {key: value for key, value in env.items() if key not in blocked}


_STDERR_KEPT = 64 * 1024


def _run_capped(
    argv: list[str], payload: bytes, *, env: dict[str, str], cwd: str | None, timeout: float, what: str
) -> tuple[int, bytes, bytes]:
    """Run ``argv`` with ``payload`` on stdin; its stdout is capped like any input (the command is
    stopped as soon as it writes more than ``userinput.MAX_INPUT_BYTES``), stderr keeps its tail."""
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    out_size = 0
    err = bytearray()
    sent = 0
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            selector.register(proc.stderr, selectors.EVENT_READ)
            if payload:
                selector.register(proc.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise subprocess.TimeoutExpired(argv, timeout)
                for key, _ in selector.select(remaining):
                    if key.fileobj is proc.stdin:
                        try:
                            sent += os.write(key.fd, payload[sent : sent + select.PIPE_BUF])
                        except BrokenPipeError:
                            sent = len(payload)  # the command does not read its input: fine
                        if sent >= len(payload):
                            selector.unregister(proc.stdin)
                            proc.stdin.close()
                        continue
                    data = os.read(key.fd, 65536)
                    if not data:
                        selector.unregister(key.fileobj)
                        continue
                    if key.fileobj is proc.stdout:
                        out_size += len(data)
                        if out_size > userinput.MAX_INPUT_BYTES:
                            raise userinput.too_large(f"the output of the {what}")
                        out.append(data)
                    else:
                        err += data
                        del err[:-_STDERR_KEPT]
        returncode = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    return returncode, b"".join(out), bytes(err)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@dataclass
class ToolCommand:
    """Runs ``argv`` for each function call (see the module docstring)."""

    argv: list[str]
    env: dict[str, str]
    timeout: float = DEFAULT_TOOL_TIMEOUT
    cwd: str | None = None

    def __call__(self, call: FunctionCall) -> str:
        payload = json.dumps(
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.decoded_arguments(),
            },
            ensure_ascii=False,
        )
        env = {**self.env, "AOAI_TOOL_NAME": call.name, "AOAI_TOOL_CALL_ID": call.call_id}
        what = f"tool command for {call.name} ({call.call_id})"
        try:
            returncode, stdout, stderr = _run_capped(
                self.argv, payload.encode("utf-8"), env=env, cwd=self.cwd, timeout=self.timeout, what=what
            )
        except subprocess.TimeoutExpired:
            raise ToolCommandError(f"{what} did not finish within {self.timeout:g} s") from None
        except OSError as exc:
            raise ToolCommandError(f"{what} could not start: {exc.strerror or exc}") from None
        if returncode != 0:
            detail = _last_line(stderr.decode("utf-8", "replace"))
            raise ToolCommandError(
                f"{what} exited with status {returncode}" + (f": {detail}" if detail else ""),
                hint="fix the command, or answer the call by hand with --tool-output",
            )
        output = userinput.decode(stdout, f"the output of the {what}")
        return output[:-1] if output.endswith("\n") else output


# -- MCP servers --------------------------------------------------------------------------------------


@dataclass
class McpServer:
    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def parse_mcp(values: Sequence[str]) -> list[McpServer]:
    """``--mcp LABEL=URL`` (repeatable; labels unique, URLs https)."""
    servers: list[McpServer] = []
    for value in values:
        label, sep, url = value.partition("=")
        if not sep or not label or not url:
            raise UsageError(f"--mcp {value!r} is not LABEL=URL", hint="e.g. --mcp docs=https://example.com/mcp")
        if not _LABEL.match(label):
            raise UsageError(f"--mcp {label!r}: a label is 1-64 letters, digits, '_' or '-'")
        if not url.lower().startswith("https://") or len(url) <= len("https://") or any(c.isspace() for c in url):
            raise UsageError(f"--mcp {label}: {url!r} is not an https:// URL", hint="the service reaches MCP over TLS")
        if any(s.label == label for s in servers):
            raise UsageError(f"--mcp {label} is given twice")
        servers.append(McpServer(label, url))
    return servers


def parse_mcp_headers(
    values: Sequence[str], labels: Sequence[str], env: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """``--mcp-header LABEL:Header-Name=ENV_VAR``: each header's value is read from ENV_VAR.

    Returns {label: {header: value}}. A value on the command line is refused (no ``=`` to a name
    that is not a variable name), as is a variable that is unset or empty."""
    headers: dict[str, dict[str, str]] = {}
    for value in values:
        target, sep, variable = value.partition("=")
        label, colon, header = target.partition(":")
        if not sep or not colon or not label or not header:
            raise UsageError(
                f"--mcp-header {value!r} is not LABEL:Header-Name=ENV_VAR",
                hint="e.g. --mcp-header docs:Authorization=DOCS_MCP_AUTH (the value is read from $DOCS_MCP_AUTH)",
            )
        if not _ENV_NAME.match(variable):
            raise UsageError(
                f"--mcp-header for {label} takes the NAME of an environment variable after '=', not a value",
                hint="export the value first, e.g. export DOCS_MCP_AUTH='Bearer …'",
            )
        if label not in labels:
            raise UsageError(f"--mcp-header for {label}: no --mcp server is labelled {label!r}")
        if not _HEADER.match(header):
            raise UsageError(f"--mcp-header for {label}: {header!r} is not a valid HTTP header name")
        secret = env.get(variable)
        if not secret:
            raise UsageError(f"--mcp-header for {label}: the environment variable {variable} is not set")
        per_server = headers.setdefault(label, {})
        if header.lower() in (h.lower() for h in per_server):
            raise UsageError(f"--mcp-header for {label}: header {header!r} is given twice")
        per_server[header] = secret
    return headers


def header_variables(values: Sequence[str]) -> list[str]:
    """The environment variables named by ``--mcp-header`` values (kept from tool commands)."""
    return [value.partition("=")[2] for value in values if "=" in value]


def mcp_tool(server: McpServer, approval: McpApproval) -> dict[str, Any]:
    tool: dict[str, Any] = {
        "type": "mcp",
        "server_label": server.label,
        "server_url": server.url,
        "require_approval": approval.value,
    }
    if server.headers:
        tool["headers"] = dict(server.headers)
    return tool


def mcp_tools(
    values: Sequence[str], approval: McpApproval, header_values: Sequence[str], env: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The ``mcp`` tool definitions for ``--mcp`` / ``--mcp-approval`` / ``--mcp-header``."""
    servers = parse_mcp(values)
    if header_values and not servers:
        raise UsageError("--mcp-header needs an --mcp server")
    headers = parse_mcp_headers(header_values, [s.label for s in servers], env)
    for server in servers:
        server.headers = headers.get(server.label, {})
    return [mcp_tool(server, approval) for server in servers]


def secret_values(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """Header values of MCP tools (to register for redaction)."""
    values: list[str] = []
    for tool in tools:
        headers = tool.get("headers")
        if tool.get("type") == "mcp" and isinstance(headers, dict):
            values.extend(str(v) for v in headers.values())
    return values


# -- MCP approvals --------------------------------------------------------------------------------------


def approval_requests(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        item
        for item in response.get("output") or []
        if isinstance(item, dict) and item.get("type") == "mcp_approval_request"
    ]


def approval_response(request_id: str, *, approve: bool) -> dict[str, Any]:
    return {"type": "mcp_approval_response", "approval_request_id": request_id, "approve": approve}


def reusable_tools(echoed: Any, header_values: Sequence[str], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The tools of a previous response, ready to be sent again with a follow-up turn.

    The service echoes tools without MCP header values, so headers are added back from
    ``--mcp-header`` (environment variables), and empty (null) fields are dropped."""
    tools: list[dict[str, Any]] = []
    for tool in echoed if isinstance(echoed, list) else []:
        if isinstance(tool, dict):
            tools.append({k: v for k, v in tool.items() if v is not None and k not in ("headers", "authorization")})
    labels = [str(t.get("server_label")) for t in tools if t.get("type") == "mcp"]
    for label, headers in parse_mcp_headers(header_values, labels, env).items():
        for tool in tools:
            if tool.get("type") == "mcp" and tool.get("server_label") == label:
                tool["headers"] = headers
    return tools


# -- the loop ----------------------------------------------------------------------------------------------


FOLLOW_UP_DROPPED = ("input", "previous_response_id", "background", "stream")


@dataclass
class Conversation:
    """How a follow-up turn refers to what came before.

    Stored responses are chained with ``previous_response_id``. With ``store=false`` nothing is on
    the service, so every turn carries the whole item list: ``items`` holds the input so far (the
    first turn's input as items), and each turn appends the response's output and the new items."""

    body: dict[str, Any]
    items: list[dict[str, Any]] | None = None

    @classmethod
    def start(cls, body: Mapping[str, Any]) -> Conversation:
        stateless = body.get("store") is False
        items: list[dict[str, Any]] | None = None
        if stateless:
            value = body.get("input")
            if isinstance(value, str):
                items = [{"role": "user", "content": value}]
            else:
                items = [dict(item) for item in value or []]
        return cls(dict(body), items)

    def follow_up(self, response: Mapping[str, Any], new_items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        base = {k: v for k, v in self.body.items() if k not in FOLLOW_UP_DROPPED}
        if self.items is not None:
            self.items = [*self.items, *(response.get("output") or []), *new_items]
            body = {**base, "input": list(self.items)}
        else:
            body = {**base, "previous_response_id": response.get("id"), "input": list(new_items)}
        self.body = body
        return body

    def transcript(self, response: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every item of the conversation including the last response's output (stateless only)."""
        return [*(self.items or []), *(response.get("output") or [])]


def run_rounds(
    first: dict[str, Any],
    conversation: Conversation,
    *,
    create: Callable[[dict[str, Any]], dict[str, Any]],
    runner: Callable[[FunctionCall], str],
    max_rounds: int,
    on_call: Callable[[int, FunctionCall], None] | None = None,
) -> tuple[dict[str, Any], int]:
    """Answer the response's function calls with ``runner`` and send the outputs back, until a
    response asks for no call; returns (the final response, rounds run)."""
    response = first
    rounds = 0
    while calls := function_calls(response):
        if rounds >= max_rounds:
            names = ", ".join(f"{c.name} ({c.call_id})" for c in calls)
            raise ToolCommandError(
                f"stopped after {rounds} tool round(s): response {response.get('id')} still asks for {names}",
                hint="raise --max-tool-rounds, or answer by hand with --tool-output CALL_ID=JSON",
            )
        rounds += 1
        outputs = []
        for call in calls:
            if on_call is not None:
                on_call(rounds, call)
            outputs.append(function_call_output(call.call_id, runner(call)))
        response = create(conversation.follow_up(response, outputs))
    return response, rounds


def follow_up_hint(response: Mapping[str, Any], *, deployment: str, transcript: str | None = None) -> list[str]:
    """The exact commands that answer what a response is waiting for: one ``create`` with a
    ``--tool-output`` per function call (RESULT_JSON to fill in), one ``approve`` per MCP approval
    request (add ``--deny`` to refuse)."""
    commands: list[str] = []
    calls = function_calls(response)
    rid = str(response.get("id"))
    if calls:
        outputs = " ".join(f"--tool-output {shlex.quote(c.call_id)}=RESULT_JSON" for c in calls)
        where = f"--continue {shlex.quote(transcript)}" if transcript else f"-p {shlex.quote(rid)}"
        commands.append(f"aoai resp create -m {shlex.quote(deployment)} {where} {outputs}")
    for request in approval_requests(response):
        request_id = shlex.quote(str(request.get("id")))
        commands.append(f"aoai resp approve {shlex.quote(rid)} {request_id} -m {shlex.quote(deployment)}")
    return commands
