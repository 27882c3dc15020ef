"""``aoai resp``: Responses API operations (see docs/resp.md).

Thin on purpose: each command checks its flags (through ``aoai.responses.inputs``), opens a
session (``run.open_session``: endpoint, credential, client, journal), calls one operation in
``aoai.responses.run`` and hands the result to ``aoai.responses.render``. httpx, rich and the
Azure SDK are imported inside the commands, so ``aoai resp --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aoai.cli.common import state
from aoai.errors import Interrupted, UsageError
from aoai.responses import AuthMode, Include, McpApproval, Order, OutputFormat, ReasoningEffort

if TYPE_CHECKING:
    from aoai.responses.render import Terminal
    from aoai.responses.run import Session, Summary
    from aoai.responses.workflow import Prepared

app = typer.Typer(
    help="Operate the Azure OpenAI Responses API: create, stream (and resume), get, cancel, delete, "
    "compact, list input items, and the local journal.\n\n"
    "Connection: --endpoint or AZURE_OPENAI_ENDPOINT; AZURE_OPENAI_API_KEY (api-key header) or "
    "--auth entra (Entra ID, scope https://ai.azure.com/.default). No secret is ever taken as a flag.",
    no_args_is_help=True,
)

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
    float, typer.Option("--interval", metavar="SECONDS", min=0.1, help="Seconds between polls with --wait.")
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.0,
        help="Give up waiting after this many seconds (exit 4).",
        show_default=False,
    ),
]


# Options that several commands share with a help text of their own: names and metavar live here.
def _model(help: str) -> Any:
    return typer.Option("-m", "--model", metavar="DEPLOYMENT", help=help, show_default=False)


def _previous_response_id(help: str) -> Any:
    return typer.Option("-p", "--previous-response-id", metavar="ID", help=help, show_default=False)


def _input_file(help: str) -> Any:
    return typer.Option("--input-file", metavar="PATH", help=help, show_default=False)


def _instructions(help: str) -> Any:
    return typer.Option("-i", "--instructions", metavar="TEXT", help=help, show_default=False)


Model = Annotated[str | None, _model("Deployment name (not the model name); env AOAI_DEPLOYMENT.")]

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


@dataclass(frozen=True)
class _Conn:
    endpoint: str | None
    auth: AuthMode | None
    scope: str | None
    ca_bundle: str | None
    max_retries: int
    journal: bool


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C anywhere a core operation did not already explain it: still exit 130 with one line."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted") from None


def _terminal() -> Terminal:
    from aoai.responses.render import Terminal

    return Terminal.from_std(color=state().color)


def _session(conn: _Conn, headers: dict[str, str] | None = None) -> Session:
    from aoai.responses import render, run

    notices = render.Notices()
    return run.open_session(
        state().env,
        endpoint=conn.endpoint,
        auth=conn.auth.value if conn.auth is not None else None,
        scope=conn.scope,
        ca_bundle=conn.ca_bundle,
        max_retries=conn.max_retries,
        use_journal=conn.journal,
        notify=notices,
        on_retry=notices.retry,
        headers=headers,
    )


def _values(include: list[Include] | None) -> list[str]:
    return [value.value for value in include or []]


def _read_text(path: str) -> str:
    from aoai.responses.inputs import read_text_file

    return read_text_file(path, stdin=sys.stdin.read)


def _deployment(model: str | None) -> str:
    from aoai import config

    env = state().env
    value = config.resolve(model, env, ("AOAI_DEPLOYMENT",), config.load_profile(env), "deployment")
    if not value:
        raise UsageError(
            "no deployment given",
            hint="pass -m/--model DEPLOYMENT (the deployment name, not the model name) or set AOAI_DEPLOYMENT",
        )
    return value


def _raise_if_ended(summary: Summary) -> None:
    from aoai.responses.run import ended_error

    error = ended_error(summary)
    if error is not None:
        raise error


def _wait(
    session: Session,
    term: Terminal,
    response_id: str,
    *,
    interval: float,
    timeout: float | None,
    include: list[str],
    first: dict[str, object] | None = None,
) -> dict[str, object]:
    from aoai.responses import render, run

    status = render.WaitStatus(term, response_id)
    try:
        return run.wait(
            session, response_id, interval=interval, timeout=timeout, include=include, on_status=status, first=first
        )
    finally:
        status.close()


@app.command(short_help="Create a response: print, stream, or run in the background.")
def create(
    text: Annotated[
        str | None, typer.Argument(metavar="[TEXT]", help="The input text (or --input-file).", show_default=False)
    ] = None,
    model: Model = None,
    input_file: Annotated[
        str | None,
        _input_file("Input from a file, - for stdin: plain text, one input item, or a JSON list of items."),
    ] = None,
    instructions: Annotated[str | None, _instructions("System/developer instructions.")] = None,
    previous_response_id: Annotated[str | None, _previous_response_id("Continue from this response.")] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream", help="Stream the output (default: stream on a terminal).", show_default=False
        ),
    ] = None,
    background: Annotated[
        bool, typer.Option("--background", help="Run in the background: resumable stream, cancel, poll.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="With --background and no stream: poll to the end, with a status line.")
    ] = False,
    interval: Interval = 2.0,
    timeout: Timeout = None,
    store: Annotated[
        bool | None,
        typer.Option("--store/--no-store", help="Store the response (service default: store).", show_default=False),
    ] = None,
    tool: Annotated[
        list[str] | None,
        typer.Option("--tool", metavar="JSON|@FILE", help="A tool as JSON, or @FILE (repeatable).", show_default=False),
    ] = None,
    tool_choice: Annotated[
        str | None,
        typer.Option(
            "--tool-choice",
            metavar="CHOICE",
            help="none, auto, required, a function name, or JSON.",
            show_default=False,
        ),
    ] = None,
    include: Includes = None,
    reasoning_effort: Annotated[
        ReasoningEffort | None,
        typer.Option(
            "--reasoning-effort",
            metavar="EFFORT",
            help="Reasoning effort: " + ", ".join(value.value for value in ReasoningEffort) + ".",
            show_default=False,
        ),
    ] = None,
    max_output_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-output-tokens", metavar="N", min=16, help="Upper bound of output tokens.", show_default=False
        ),
    ] = None,
    metadata: Annotated[
        list[str] | None,
        typer.Option(
            "--metadata",
            metavar="KEY=VALUE",
            help="KEY=VALUE to tag the response (repeatable, at most 16).",
            show_default=False,
        ),
    ] = None,
    compact_threshold: Annotated[
        int | None,
        typer.Option(
            "--compact-threshold",
            metavar="TOKENS",
            min=1000,
            help="Server-side compaction past N tokens (context_management).",
            show_default=False,
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=JSON",
            help="KEY=JSON for any other body field (repeatable; KEY may be dotted).",
            show_default=False,
        ),
    ] = None,
    file: Files = None,
    image: Images = None,
    tool_output: Annotated[
        list[str] | None,
        typer.Option(
            "--tool-output",
            metavar="CALL_ID=JSON|@FILE",
            help="Answer a function call (repeatable); usually with -p ID or --continue FILE.",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    exec_tools: Annotated[
        str | None,
        typer.Option(
            "--exec-tools",
            metavar="CMD",
            help="Run CMD for each function call (call JSON on stdin, output on stdout) and send the results "
            "back until the model answers. Opt-in; CMD gets no credential.",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    max_tool_rounds: Annotated[
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
    ] = None,
    tool_timeout: Annotated[
        float | None,
        typer.Option(
            "--tool-timeout",
            metavar="SECONDS",
            min=0.1,
            help="With --exec-tools: seconds each call may take (default 60).",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    mcp: Annotated[
        list[str] | None,
        typer.Option(
            "--mcp",
            metavar="LABEL=URL",
            help="Offer a remote MCP server (repeatable; https only).",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    mcp_approval: Annotated[
        McpApproval | None,
        typer.Option(
            "--mcp-approval",
            metavar="always|never",
            help="Whether MCP tool calls wait for `aoai resp approve` (default always).",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    mcp_header: McpHeaders = None,
    image_deployment: Annotated[
        str | None,
        typer.Option(
            "--image-deployment",
            metavar="DEPLOYMENT",
            help="Offer image generation on this gpt-image-1 series deployment (not streamed).",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    save_images: Annotated[
        str | None,
        typer.Option(
            "--save-images",
            metavar="DIR",
            help="Write generated images to DIR as files and print their paths.",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    continue_file: Annotated[
        str | None,
        typer.Option(
            "--continue",
            metavar="FILE",
            help="Stateless conversation kept in FILE (a JSON item list): send it plus this turn with "
            "store=false and encrypted reasoning, then save it back.",
            rich_help_panel=_TOOLS,
            show_default=False,
        ),
    ] = None,
    max_resumes: MaxResumes = 5,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Create a response: print it, stream it, or start it in the background.

    Examples:

    \b
      aoai resp create "Summarise RFC 9110 in one line" -m chat
      aoai resp create --input-file prompt.txt -m reasoner --reasoning-effort high
      aoai resp create "And in Rome?" -m chat -p resp_123 --param temperature=0.2
      aoai resp create "Weather?" -m chat --tool @weather.json --tool-choice get_weather
      # a stream that resumes by itself if the network drops:
      aoai resp create "Write a long story" -m chat --background --stream
      # start it, print its id, come back later (aoai resp stream / get --wait):
      aoai resp create "Write a long story" -m chat --background
      # files, images, tools, MCP, image generation, a local transcript:
      aoai resp create "Summarise" -m chat --file report.pdf --image chart.png
      aoai resp create "Weather in Oslo?" -m chat --tool @weather.json --exec-tools ./weather.py
      aoai resp create "Search the docs" -m chat --mcp docs=https://example.com/mcp
      aoai resp create "Draw an otter" -m chat --image-deployment gpt-image-1 --save-images out/
      aoai resp create "Hello" -m reasoner --continue chat.json

    Streamed text goes to stdout untouched when piped; status, retries and
    reconnects go to stderr.

    \b
    Exit codes: 0 done; 1 the response failed, was incomplete or cancelled;
    2 bad input; 3 authentication; 4 service or network failure; 5 not found;
    130 Ctrl-C (after printing how to resume or cancel).
    """
    with _interruptible():
        from aoai.responses import inputs, render, run, tools, workflow

        st = state()
        flags = workflow.TurnFlags(
            files=file or [],
            images=image or [],
            tool_outputs=tool_output or [],
            exec_tools=exec_tools,
            max_tool_rounds=max_tool_rounds,
            tool_timeout=tool_timeout,
            mcp=mcp or [],
            mcp_approval=mcp_approval,
            mcp_headers=mcp_header or [],
            image_deployment=image_deployment,
            save_images=save_images,
            continue_file=continue_file,
        )
        workflow.check_flags(
            flags,
            previous_response_id=previous_response_id,
            input_file=input_file,
            store=store,
            background=background,
            stream=stream,
            wait=wait,
        )
        deployment = _deployment(model)
        turn_input, transcript_path = workflow.prepare_input(
            inputs.resolve_input(text, input_file, _read_text), flags, _read_text
        )
        options = inputs.CreateOptions(
            model=deployment,
            input=turn_input,
            instructions=instructions,
            previous_response_id=previous_response_id,
            background=background,
            store=store,
            tools=tool or [],
            tool_choice=tool_choice,
            include=_values(include),
            reasoning_effort=reasoning_effort.value if reasoning_effort is not None else None,
            max_output_tokens=max_output_tokens,
            metadata=metadata or [],
            compact_threshold=compact_threshold,
            params=param or [],
        )
        prepared = workflow.prepare(
            inputs.build_create_body(options, _read_text), flags, transcript_path=transcript_path, env=st.env
        )
        body = prepared.body
        if wait and not background:
            raise UsageError(
                "--wait applies to --background responses", hint="a foreground response is always waited for"
            )
        if wait and stream:
            raise UsageError(
                "--wait and --stream are alternatives", hint="a stream already follows the response to its end"
            )
        # Tool rounds and image generation (which Azure cannot stream) run without streaming.
        unstreamable = prepared.runner is not None or flags.image_deployment is not None
        streaming = stream if stream is not None else (st.stdout_is_tty and not wait and not unstreamable)
        term = _terminal()
        conn = _Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)
        with _session(conn, prepared.headers) as session:
            if streaming:
                with render.stream_sink(output, term, catch_up=True) as sink:
                    summary = run.stream_create(
                        session, body, sink, max_resumes=max_resumes, on_resume=render.Notices().resume
                    )
                    summary.calls = []  # shown in full by show_turn_end
                    sink.finish(summary)
                if summary.response is not None:
                    _end_turn(term, output, prepared, summary.response, deployment)
                _raise_if_ended(summary)
                return
            response, took = run.create(session, body)
            elapsed: float | None = took
            if background and not wait:
                render.show_started(term, output, response)
                return
            if prepared.runner is not None and prepared.conversation is not None:
                response, _ = tools.run_rounds(
                    response,
                    prepared.conversation,
                    create=lambda follow_up: run.create(session, follow_up)[0],
                    runner=prepared.runner,
                    max_rounds=prepared.max_rounds,
                    on_call=render.tool_round_notice(term),
                )
                elapsed = None
            if background:
                response = _wait(
                    session,
                    term,
                    str(response.get("id")),
                    interval=interval,
                    timeout=timeout,
                    include=options.include,
                    first=response,
                )
                elapsed = None
            _show_turn(term, output, prepared, response, deployment, elapsed=elapsed)


def _show_turn(
    term: Terminal,
    output: OutputFormat,
    prepared: Prepared,
    response: dict[str, object],
    deployment: str,
    *,
    elapsed: float | None,
) -> None:
    """A finished, non-streamed turn: the response, what it left to do, and its exit status."""
    from aoai.responses import render, run

    summary = run.summarize(response, elapsed=elapsed)
    summary.calls = []  # shown in full by show_turn_end
    render.show_response(term, output, render.for_display(term, output, response), summary)
    _end_turn(term, output, prepared, response, deployment)
    _raise_if_ended(summary)


def _end_turn(
    term: Terminal, output: OutputFormat, prepared: Prepared, response: dict[str, object], deployment: str
) -> None:
    """Images and transcript written, then pending calls / approvals and how to answer them."""
    from aoai.responses import render, tools, workflow

    done = workflow.finish(prepared, response)
    transcript = str(done.transcript) if done.transcript is not None else None
    render.show_turn_end(
        term,
        output,
        response,
        hints=tools.follow_up_hint(response, deployment=deployment, transcript=transcript),
        image_paths=[str(path) for path in done.image_paths],
        unsaved_images=done.unsaved_images,
        transcript=transcript,
    )


@app.command(short_help="Approve (or deny) an MCP tool call a response is waiting for.")
def approve(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The response that asked for approval.")],
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="The mcp_approval_request item id (mcpr_…).")],
    deny: Annotated[bool, typer.Option("--deny", help="Refuse the call instead of approving it.")] = False,
    model: Annotated[
        str | None, _model("Deployment name; default: the one the journal recorded for ID, else AOAI_DEPLOYMENT.")
    ] = None,
    mcp_header: McpHeaders = None,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Answer an MCP approval request: a follow-up turn (previous_response_id = ID) carrying an
    mcp_approval_response. Approved, the service calls the MCP tool and answers; denied, it answers
    without calling it.

    The tools of ID are sent again; MCP header values are not echoed by the service, so give
    --mcp-header again when the server needs them.

    Examples:

    \b
      aoai resp approve resp_123 mcpr_456
      aoai resp approve resp_123 mcpr_456 --deny
      aoai resp approve resp_123 mcpr_456 --mcp-header docs:Authorization=DOCS_MCP_AUTH -o json
    """
    with _interruptible():
        from aoai.responses import inputs, run, workflow

        inputs.check_response_id(response_id)
        term = _terminal()
        with _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            known = session.journal.get(response_id) if session.journal is not None and model is None else None
            deployment = known.deployment if known is not None and known.deployment else _deployment(model)
            previous = run.retrieve(session, response_id)
            body = workflow.approval_body(
                previous,
                [request_id],
                approve=not deny,
                deployment=deployment,
                header_values=mcp_header or [],
                env=state().env,
            )
            response, took = run.create(session, body)
        _show_turn(term, output, workflow.Prepared(body=body), response, deployment, elapsed=took)


@app.command(short_help="Retrieve a response (text, or the object with -o json).")
def get(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The response id (resp_…).")],
    include: Includes = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll until the response is finished, with a status line.")
    ] = False,
    interval: Interval = 2.0,
    timeout: Timeout = None,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Retrieve a response: its text (stdout) and status (stderr), or the whole object with -o json.

    Examples:

    \b
      aoai resp get resp_123
      aoai resp get resp_123 -o json | jq .usage
      # poll to the end; exit 1 if it failed or was cancelled, 4 on timeout:
      aoai resp get resp_123 --wait --interval 5 --timeout 600
    """
    with _interruptible():
        from aoai.responses import inputs, render, run, tools

        inputs.check_response_id(response_id)
        includes = _values(include)
        term = _terminal()
        with _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            if wait:
                response = _wait(session, term, response_id, interval=interval, timeout=timeout, include=includes)
            else:
                response = run.retrieve(session, response_id, include=includes)
            known = session.journal.get(response_id) if session.journal is not None else None
            summary = run.summarize(response)
            summary.calls = []  # shown in full by show_turn_end
            render.show_response(term, output, render.for_display(term, output, response), summary)
            render.show_turn_end(
                term,
                output,
                response,
                hints=tools.follow_up_hint(
                    response, deployment=known.deployment if known and known.deployment else "DEPLOYMENT"
                ),
            )
            if wait:
                _raise_if_ended(summary)


@app.command(short_help="Stream a background response again, from where you left off.")
def stream(
    response_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="The background response to follow.", show_default=False)
    ] = None,
    starting_after: Annotated[
        int | None,
        typer.Option(
            "--starting-after",
            metavar="N",
            min=0,
            help="Replay the events after this sequence number (default: the last one this machine saw).",
            show_default=False,
        ),
    ] = None,
    last: Annotated[bool, typer.Option("--last", help="Follow the most recent response in the journal.")] = False,
    include: Includes = None,
    max_resumes: MaxResumes = 5,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Stream a background response again, from where you left off (GET …?stream=true&starting_after=N).

    Only responses created with both --background and --stream keep their events. Breaks are
    resumed automatically, without repeating or losing text.

    Examples:

    \b
      # continue after the last event this machine saw:
      aoai resp stream resp_123
      aoai resp stream resp_123 --starting-after 42
      aoai resp stream --last -o jsonl
    """
    with _interruptible():
        from aoai.responses import inputs, render, run

        if response_id is not None and last:
            raise UsageError("give a response ID or --last, not both")
        if response_id is None and not last:
            raise UsageError("which response?", hint="give its ID, or --last for the most recent one in the journal")
        if last and no_journal:
            raise UsageError("--last reads the journal", hint="drop --no-journal")
        if response_id is not None:
            inputs.check_response_id(response_id)
        term = _terminal()
        notices = render.Notices()
        with _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            response_id, after = run.follow_point(session, response_id, starting_after=starting_after, notify=notices)
            with render.stream_sink(output, term, catch_up=after is None) as sink:
                summary = run.stream_follow(
                    session,
                    response_id,
                    sink,
                    starting_after=after,
                    include=_values(include),
                    max_resumes=max_resumes,
                    on_resume=notices.resume,
                )
                sink.finish(summary)
            _raise_if_ended(summary)


@app.command(short_help="Cancel a background response; prints its final status.")
def cancel(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The background response to cancel.")],
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Cancel a background response and print its final status (idempotent: safe to repeat).

    A foreground response cannot be cancelled: closing its connection stops it.

    Examples:

    \b
      aoai resp cancel resp_123          # prints: cancelled
      aoai resp cancel resp_123 -o json
    """
    with _interruptible():
        from aoai.responses import inputs, render, run

        inputs.check_response_id(response_id)
        term = _terminal()
        with _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            response = run.cancel(session, response_id)
        render.show_status_word(term, output, response)


@app.command(short_help="Delete a stored response.")
def delete(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The stored response to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Delete a stored response (asks first on a terminal, unless --yes).

    Examples:

    \b
      aoai resp delete resp_123
      aoai resp delete resp_123 --yes
    """
    with _interruptible():
        from aoai.responses import inputs, render, run

        inputs.check_response_id(response_id)
        term = _terminal()
        session = _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal))
        with session:
            if (
                not yes
                and state().stdin_is_tty
                and not typer.confirm(f"Delete response {response_id}?", default=False, err=True)
            ):
                render.Notices()("not deleted")
                raise typer.Exit(1)
            result = run.delete(session, response_id)
        render.show_deleted(term, output, result, response_id)


@app.command(short_help="Compact a conversation into fewer items.")
def compact(
    text: Annotated[
        str | None, typer.Argument(metavar="[TEXT]", help="Text to compact (or --input-file / -p).", show_default=False)
    ] = None,
    model: Model = None,
    previous_response_id: Annotated[
        str | None, _previous_response_id("Compact the conversation up to this response.")
    ] = None,
    input_file: Annotated[str | None, _input_file("Items to compact: a JSON list (or text), - for stdin.")] = None,
    instructions: Annotated[str | None, _instructions("Instructions for the compaction.")] = None,
    save: Annotated[
        str | None,
        typer.Option(
            "--save",
            metavar="FILE",
            help="Write the output items as JSON, ready for `create --input-file`.",
            show_default=False,
        ),
    ] = None,
    file: Files = None,
    image: Images = None,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """Compact a conversation (POST /responses/compact): shows the items and the token usage.

    Examples:

    \b
      aoai resp compact -p resp_123 -m chat --save compacted.json
      aoai resp compact --input-file conversation.json -m chat -o json
      # continue the conversation from the compacted items:
      aoai resp create --input-file compacted.json -m chat
    """
    with _interruptible():
        from aoai.responses import attachments, inputs, render, run, workflow

        body = inputs.build_compact_body(
            model=_deployment(model),
            input=attachments.attach(
                inputs.resolve_input(text, input_file, _read_text), attachments.load_all(file or [], image or [])
            ),
            previous_response_id=previous_response_id,
            instructions=instructions,
        )
        target = workflow.compact_target(save)
        term = _terminal()
        with _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            result = run.compact(session, body)
        if target is not None:
            workflow.save_compacted(target, result)
        render.show_compaction(term, output, result, str(target) if target is not None else None)


@app.command(short_help="List the input items of a response.")
def items(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The response whose input items to list.")],
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", min=1, max=100, help="Items per page (1-100).", show_default=False),
    ] = None,
    order: Annotated[
        Order | None, typer.Option("--order", metavar="asc|desc", help="asc or desc.", show_default=False)
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", metavar="ITEM_ID", help="List items after this item id.", show_default=False),
    ] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow every page.")] = False,
    include: Includes = None,
    output: Output = OutputFormat.TEXT,
    endpoint: Endpoint = None,
    auth: Auth = None,
    scope: Scope = None,
    ca_bundle: CaBundle = None,
    max_retries: MaxRetries = 3,
    no_journal: NoJournal = False,
) -> None:
    """List the input items of a response (GET /responses/{id}/input_items).

    Examples:

    \b
      aoai resp items resp_123
      aoai resp items resp_123 --all --order asc -o jsonl
    """
    with _interruptible():
        from aoai.responses import inputs, render, run

        inputs.check_response_id(response_id)
        term = _terminal()
        with _session(_Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            pages = run.input_item_pages(
                session,
                response_id,
                limit=limit,
                order=order.value if order is not None else None,
                after=after,
                include=_values(include),
                follow=all_pages,
            )
            render.show_items(term, output, pages, follow=all_pages)


@app.command(short_help="Show the local journal of responses, newest first.")
def log(
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", min=1, help="How many entries.")] = 20,
    output: Output = OutputFormat.TEXT,
) -> None:
    """The local journal, newest first: ids, endpoint, deployment, status, last event seen, tokens.

    The journal ($AOAI_STATE_DIR/journal.sqlite3, mode 0600) holds no prompt, no output and no
    secret. `aoai resp stream ID` continues from the last event recorded here.

    Examples:

    \b
      aoai resp log
      aoai resp log -n 5 -o json
    """
    with _interruptible():
        from aoai.responses import render, run

        render.show_log(_terminal(), output, run.journal_entries(state().env, limit=limit))
