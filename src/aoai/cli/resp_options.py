"""The options of ``aoai resp`` commands: flag names, metavars and help in one place.

Declarations only (no behaviour): the commands in ``resp_create`` and ``resp_manage`` annotate their
parameters with these, so a flag reads the same everywhere it appears.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aoai.cli.common import finite
from aoai.responses import AuthMode, Include, McpApproval, OutputFormat, ReasoningEffort

MAX_WAIT_SECONDS = 7 * 24 * 3600.0  # a week: longer than any background response is kept waiting
MAX_TOKENS = 2**31 - 1  # the service's token counts are 32-bit integers

_CONN = "Connection"
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        metavar="URL",
        help="Resource endpoint, e.g. https://NAME.openai.azure.com; env AZURE_OPENAI_ENDPOINT.",
        rich_help_panel=_CONN,
        show_default=False,
    ),
]
Auth = Annotated[
    AuthMode | None,
    typer.Option(
        "--auth",
        metavar="key|entra",
        help="key: AZURE_OPENAI_API_KEY in the api-key header; entra: an Entra ID token (AOAI_ACCESS_TOKEN, "
        "else DefaultAzureCredential). Default: key when AZURE_OPENAI_API_KEY is set.",
        rich_help_panel=_CONN,
        show_default=False,
    ),
]
Scope = Annotated[
    str | None,
    typer.Option(
        "--scope",
        metavar="SCOPE",
        help="Entra ID token scope (default https://ai.azure.com/.default).",
        rich_help_panel=_CONN,
    ),
]
CaBundle = Annotated[
    str | None,
    typer.Option(
        "--ca-bundle",
        metavar="PATH",
        help="PEM file of CAs to trust (corporate proxy, emulator); env REQUESTS_CA_BUNDLE, SSL_CERT_FILE.",
        rich_help_panel=_CONN,
    ),
]
MaxRetries = Annotated[
    int,
    typer.Option(
        "--max-retries",
        metavar="N",
        min=0,
        max=20,
        help="Retries of 429/5xx/connection failures (create and compact: only 429, 503, no connection).",
        rich_help_panel=_CONN,
    ),
]
NoJournal = Annotated[
    bool,
    typer.Option("--no-journal", help="Do not read or write the local journal.", rich_help_panel=_CONN),
]
Output = Annotated[
    OutputFormat,
    typer.Option(
        "-o", "--output", metavar="FORMAT", help="text (for people), json (final object) or jsonl (one event per line)."
    ),
]
Includes = Annotated[
    list[Include] | None,
    typer.Option(
        "--include",
        metavar="FIELD",
        help="Extra output data (repeatable): " + ", ".join(value.value for value in Include) + ".",
        show_default=False,
    ),
]
MaxResumes = Annotated[
    int,
    typer.Option(
        "--max-resumes",
        metavar="N",
        min=0,
        max=100,
        help="Reconnects in a row without a new event before a background stream is given up.",
    ),
]
Interval = Annotated[
    float,
    typer.Option(
        "--interval",
        metavar="SECONDS",
        min=0.1,
        max=3600.0,
        callback=finite,
        help="Seconds between polls with --wait (0.1-3600).",
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.0,
        max=MAX_WAIT_SECONDS,
        callback=finite,
        help="Give up waiting after this many seconds (exit 4).",
        show_default=False,
    ),
]


# Options that several commands share with a help text of their own: names and metavar live here.
def model_flag(help: str) -> Any:
    return typer.Option("-m", "--model", metavar="DEPLOYMENT", help=help, show_default=False)


def previous_response_id_flag(help: str) -> Any:
    return typer.Option("-p", "--previous-response-id", metavar="ID", help=help, show_default=False)


def input_file_flag(help: str) -> Any:
    return typer.Option("--input-file", metavar="PATH", help=help, show_default=False)


def instructions_flag(help: str) -> Any:
    return typer.Option("-i", "--instructions", metavar="TEXT", help=help, show_default=False)


Model = Annotated[str | None, model_flag("Deployment name (not the model name); env AOAI_DEPLOYMENT.")]

_TOOLS = "Files, tools, MCP, images, transcripts"
Files = Annotated[
    list[str] | None,
    typer.Option(
        "--file",
        metavar="PATH",
        help="Attach a file (repeatable): PDF, Office, text/code; sent inline, at most 50 MB each.",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]
Images = Annotated[
    list[str] | None,
    typer.Option(
        "--image",
        metavar="PATH|URL",
        help="Attach an image (repeatable): PNG, JPEG or WebP file (at most 50 MB), or an https URL.",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]
McpHeaders = Annotated[
    list[str] | None,
    typer.Option(
        "--mcp-header",
        metavar="LABEL:NAME=ENV_VAR",
        help="Send header NAME to MCP server LABEL, its value read from $ENV_VAR (repeatable).",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]


# Options of `create` alone.
Stream = Annotated[
    bool | None,
    typer.Option("--stream/--no-stream", help="Stream the output (default: stream on a terminal).", show_default=False),
]
Background = Annotated[
    bool, typer.Option("--background", help="Run in the background: resumable stream, cancel, poll.")
]
BackgroundWait = Annotated[
    bool, typer.Option("--wait", help="With --background and no stream: poll to the end, with a status line.")
]

Store = Annotated[
    bool | None,
    typer.Option("--store/--no-store", help="Store the response (service default: store).", show_default=False),
]

Tool = Annotated[
    list[str] | None,
    typer.Option("--tool", metavar="JSON|@FILE", help="A tool as JSON, or @FILE (repeatable).", show_default=False),
]

ToolChoice = Annotated[
    str | None,
    typer.Option(
        "--tool-choice",
        metavar="CHOICE",
        help="none, auto, required, a function name, or JSON.",
        show_default=False,
    ),
]

Effort = Annotated[
    ReasoningEffort | None,
    typer.Option(
        "--reasoning-effort",
        metavar="EFFORT",
        help="Reasoning effort: " + ", ".join(value.value for value in ReasoningEffort) + ".",
        show_default=False,
    ),
]

MaxOutputTokens = Annotated[
    int | None,
    typer.Option(
        "--max-output-tokens",
        metavar="N",
        min=16,
        max=MAX_TOKENS,
        help="Upper bound of output tokens.",
        show_default=False,
    ),
]

Metadata = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        metavar="KEY=VALUE",
        help="KEY=VALUE to tag the response (repeatable, at most 16).",
        show_default=False,
    ),
]

CompactThreshold = Annotated[
    int | None,
    typer.Option(
        "--compact-threshold",
        metavar="TOKENS",
        min=1000,
        max=MAX_TOKENS,
        help="Server-side compaction past N tokens (context_management).",
        show_default=False,
    ),
]

Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="KEY=JSON",
        help="KEY=JSON for any other body field (repeatable; KEY may be dotted).",
        show_default=False,
    ),
]

ToolOutputs = Annotated[
    list[str] | None,
    typer.Option(
        "--tool-output",
        metavar="CALL_ID=JSON|@FILE",
        help="Answer a function call (repeatable); usually with -p ID or --continue FILE.",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

ExecTools = Annotated[
    str | None,
    typer.Option(
        "--exec-tools",
        metavar="CMD",
        help="Run CMD for each function call (call JSON on stdin, output on stdout) and send the results "
        "back until the model answers. Opt-in; CMD gets no credential.",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

MaxToolRounds = Annotated[
    int | None,
    typer.Option(
        "--max-tool-rounds",
        metavar="N",
        min=1,
        max=100,
        help="With --exec-tools: stop (exit 1) after N rounds of calls (default 8).",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

ToolTimeout = Annotated[
    float | None,
    typer.Option(
        "--tool-timeout",
        metavar="SECONDS",
        min=0.1,
        max=3600.0,
        callback=finite,
        help="With --exec-tools: seconds each call may take (default 60).",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

McpServers = Annotated[
    list[str] | None,
    typer.Option(
        "--mcp",
        metavar="LABEL=URL",
        help="Offer a remote MCP server (repeatable; https only).",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

McpApprovalMode = Annotated[
    McpApproval | None,
    typer.Option(
        "--mcp-approval",
        metavar="always|never",
        help="Whether MCP tool calls wait for `aoai resp approve` (default always).",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

ImageDeployment = Annotated[
    str | None,
    typer.Option(
        "--image-deployment",
        metavar="DEPLOYMENT",
        help="Offer image generation on this gpt-image-1 series deployment (not streamed).",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

SaveImages = Annotated[
    str | None,
    typer.Option(
        "--save-images",
        metavar="DIR",
        help="Write generated images to DIR as files and print their paths.",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]

ContinueFile = Annotated[
    str | None,
    typer.Option(
        "--continue",
        metavar="FILE",
        help="Stateless conversation kept in FILE (a JSON item list): send it plus this turn with "
        "store=false and encrypted reasoning, then save it back.",
        rich_help_panel=_TOOLS,
        show_default=False,
    ),
]
