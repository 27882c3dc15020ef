"""``aoai resp create`` and ``aoai resp approve``: the commands that start a turn.

Thin: check flags (``aoai.responses.inputs`` / ``workflow``), open a session, call one operation of
``aoai.responses.run``, hand the result to ``aoai.responses.render``. Core modules are imported
inside the commands, so ``aoai resp --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from aoai.cli import resp_options as opt
from aoai.cli.common import state
from aoai.cli.resp_session import (
    Conn,
    deployment_name,
    include_values,
    interruptible,
    open_session,
    raise_if_ended,
    read_text,
    terminal,
    wait_for,
)
from aoai.errors import UsageError
from aoai.responses import OutputFormat

if TYPE_CHECKING:
    from aoai.responses.render import Terminal
    from aoai.responses.workflow import Prepared


def create(
    text: Annotated[
        str | None, typer.Argument(metavar="[TEXT]", help="The input text (or --input-file).", show_default=False)
    ] = None,
    model: opt.Model = None,
    input_file: Annotated[
        str | None,
        opt.input_file_flag("Input from a file, - for stdin: plain text, one input item, or a JSON list of items."),
    ] = None,
    instructions: Annotated[str | None, opt.instructions_flag("System/developer instructions.")] = None,
    previous_response_id: Annotated[str | None, opt.previous_response_id_flag("Continue from this response.")] = None,
    stream: opt.Stream = None,
    background: opt.Background = False,
    wait: opt.BackgroundWait = False,
    interval: opt.Interval = 2.0,
    timeout: opt.Timeout = None,
    store: opt.Store = None,
    tool: opt.Tool = None,
    tool_choice: opt.ToolChoice = None,
    include: opt.Includes = None,
    reasoning_effort: opt.Effort = None,
    max_output_tokens: opt.MaxOutputTokens = None,
    metadata: opt.Metadata = None,
    compact_threshold: opt.CompactThreshold = None,
    param: opt.Params = None,
    file: opt.Files = None,
    image: opt.Images = None,
    tool_output: opt.ToolOutputs = None,
    exec_tools: opt.ExecTools = None,
    max_tool_rounds: opt.MaxToolRounds = None,
    tool_timeout: opt.ToolTimeout = None,
    mcp: opt.McpServers = None,
    mcp_approval: opt.McpApprovalMode = None,
    mcp_header: opt.McpHeaders = None,
    image_deployment: opt.ImageDeployment = None,
    save_images: opt.SaveImages = None,
    continue_file: opt.ContinueFile = None,
    max_resumes: opt.MaxResumes = 5,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
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
      # start it, print its id, come back later (aoai resp resume-stream / retrieve --wait):
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
    with interruptible():
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
        deployment = deployment_name(model)
        turn_input, transcript_path = workflow.prepare_input(
            inputs.resolve_input(text, input_file, read_text), flags, read_text, render.Notices()
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
            include=include_values(include),
            reasoning_effort=reasoning_effort.value if reasoning_effort is not None else None,
            max_output_tokens=max_output_tokens,
            metadata=metadata or [],
            compact_threshold=compact_threshold,
            params=param or [],
        )
        prepared = workflow.prepare(
            inputs.build_create_body(options, read_text), flags, transcript_path=transcript_path, env=st.env
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
        term = terminal()
        conn = Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)
        with open_session(conn, prepared.headers) as session:
            if streaming:
                with render.stream_sink(output, term, catch_up=True) as sink:
                    summary = run.stream_create(
                        session, body, sink, max_resumes=max_resumes, on_resume=render.Notices().resume
                    )
                    summary.calls = []  # shown in full by show_turn_end
                    sink.finish(summary)
                if summary.response is not None:
                    _end_turn(term, output, prepared, summary.response, deployment)
                raise_if_ended(summary)
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
                response = wait_for(
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
    raise_if_ended(summary)


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


def approve(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The response that asked for approval.")],
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="The mcp_approval_request item id (mcpr_…).")],
    deny: Annotated[bool, typer.Option("--deny", help="Refuse the call instead of approving it.")] = False,
    model: Annotated[
        str | None,
        opt.model_flag("Deployment name; default: the one the journal recorded for ID, else AOAI_DEPLOYMENT."),
    ] = None,
    mcp_header: opt.McpHeaders = None,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
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
    with interruptible():
        from aoai import validation
        from aoai.responses import inputs, run, workflow

        inputs.check_response_id(response_id)
        validation.opaque_id(request_id, "REQUEST_ID", kind="approval request id", example="mcpr_0123abcd…")
        term = terminal()
        with open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            known = session.journal.get(response_id) if session.journal is not None and model is None else None
            deployment = known.deployment if known is not None and known.deployment else deployment_name(model)
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
