"""``aoai resp`` commands on an existing response (retrieve, resume-stream, cancel, delete, items),
``compact`` and the local ``log``.

Thin: check the id, open a session, call one operation of ``aoai.responses.run``, hand the result
to ``aoai.responses.render``. Core modules are imported inside the commands.
"""

from __future__ import annotations

from typing import Annotated

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
from aoai.responses import Order, OutputFormat


def retrieve(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The response id (resp_…).")],
    include: opt.Includes = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll until the response is finished, with a status line.")
    ] = False,
    interval: opt.Interval = 2.0,
    timeout: opt.Timeout = None,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
) -> None:
    """Retrieve a response: its text (stdout) and status (stderr), or the whole object with -o json.

    Examples:

    \b
      aoai resp retrieve resp_123
      aoai resp retrieve resp_123 -o json | jq .usage
      # poll to the end; exit 1 if it failed or was cancelled, 4 on timeout:
      aoai resp retrieve resp_123 --wait --interval 5 --timeout 600
    """
    with interruptible():
        from aoai.responses import inputs, render, run, tools

        inputs.check_response_id(response_id)
        includes = include_values(include)
        term = terminal()
        with open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            if wait:
                response = wait_for(session, term, response_id, interval=interval, timeout=timeout, include=includes)
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
                raise_if_ended(summary)


def resume_stream(
    response_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="The background response to follow.", show_default=False)
    ] = None,
    starting_after: Annotated[
        int | None,
        typer.Option(
            "--starting-after",
            metavar="N",
            min=0,
            max=2**53,
            help="Replay the events after this sequence number (default: the last one this machine saw).",
            show_default=False,
        ),
    ] = None,
    last: Annotated[bool, typer.Option("--last", help="Follow the most recent response in the journal.")] = False,
    include: opt.Includes = None,
    max_resumes: opt.MaxResumes = 5,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
) -> None:
    """Stream a background response again, from where you left off (GET …?stream=true&starting_after=N).

    Only responses created with both --background and --stream keep their events. Breaks are
    resumed automatically, without repeating or losing text.

    Examples:

    \b
      # continue after the last event this machine saw:
      aoai resp resume-stream resp_123
      aoai resp resume-stream resp_123 --starting-after 42
      aoai resp resume-stream --last -o jsonl
    """
    with interruptible():
        from aoai.responses import inputs, render, run

        if response_id is not None and last:
            raise UsageError("give a response ID or --last, not both")
        if response_id is None and not last:
            raise UsageError("which response?", hint="give its ID, or --last for the most recent one in the journal")
        if last and no_journal:
            raise UsageError("--last reads the journal", hint="drop --no-journal")
        if response_id is not None:
            inputs.check_response_id(response_id)
        term = terminal()
        notices = render.Notices()
        with open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            response_id, after = run.follow_point(session, response_id, starting_after=starting_after, notify=notices)
            with render.stream_sink(output, term, catch_up=after is None) as sink:
                summary = run.stream_follow(
                    session,
                    response_id,
                    sink,
                    starting_after=after,
                    include=include_values(include),
                    max_resumes=max_resumes,
                    on_resume=notices.resume,
                )
                sink.finish(summary)
            raise_if_ended(summary)


def cancel(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The background response to cancel.")],
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
) -> None:
    """Cancel a background response and print its final status (idempotent: safe to repeat).

    A foreground response cannot be cancelled: closing its connection stops it.

    Examples:

    \b
      aoai resp cancel resp_123          # prints: cancelled
      aoai resp cancel resp_123 -o json
    """
    with interruptible():
        from aoai.responses import inputs, render, run

        inputs.check_response_id(response_id)
        term = terminal()
        with open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            response = run.cancel(session, response_id)
        render.show_status_word(term, output, response)


def delete(
    response_id: Annotated[str, typer.Argument(metavar="ID", help="The stored response to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
) -> None:
    """Delete a stored response (asks first on a terminal, unless --yes).

    Examples:

    \b
      aoai resp delete resp_123
      aoai resp delete resp_123 --yes
    """
    with interruptible():
        from aoai.responses import inputs, render, run

        inputs.check_response_id(response_id)
        term = terminal()
        session = open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal))
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


def compact(
    text: Annotated[
        str | None, typer.Argument(metavar="[TEXT]", help="Text to compact (or --input-file / -p).", show_default=False)
    ] = None,
    model: opt.Model = None,
    previous_response_id: Annotated[
        str | None, opt.previous_response_id_flag("Compact the conversation up to this response.")
    ] = None,
    input_file: Annotated[
        str | None, opt.input_file_flag("Items to compact: a JSON list (or text), - for stdin.")
    ] = None,
    instructions: Annotated[str | None, opt.instructions_flag("Instructions for the compaction.")] = None,
    save: Annotated[
        str | None,
        typer.Option(
            "--save",
            metavar="FILE",
            help="Write the output items as JSON, ready for `create --input-file`.",
            show_default=False,
        ),
    ] = None,
    file: opt.Files = None,
    image: opt.Images = None,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
) -> None:
    """Compact a conversation (POST /responses/compact): shows the items and the token usage.

    Examples:

    \b
      aoai resp compact -p resp_123 -m chat --save compacted.json
      aoai resp compact --input-file conversation.json -m chat -o json
      # continue the conversation from the compacted items:
      aoai resp create --input-file compacted.json -m chat
    """
    with interruptible():
        from aoai.responses import attachments, inputs, render, run, workflow

        body = inputs.build_compact_body(
            model=deployment_name(model),
            input=attachments.attach(
                inputs.resolve_input(text, input_file, read_text), attachments.load_all(file or [], image or [])
            ),
            previous_response_id=previous_response_id,
            instructions=instructions,
        )
        target = workflow.compact_target(save)
        term = terminal()
        with open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            result = run.compact(session, body)
        if target is not None:
            workflow.save_compacted(target, result)
        render.show_compaction(term, output, result, str(target) if target is not None else None)


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
    include: opt.Includes = None,
    output: opt.Output = OutputFormat.TEXT,
    endpoint: opt.Endpoint = None,
    auth: opt.Auth = None,
    scope: opt.Scope = None,
    ca_bundle: opt.CaBundle = None,
    max_retries: opt.MaxRetries = 3,
    no_journal: opt.NoJournal = False,
) -> None:
    """List the input items of a response (GET /responses/{id}/input_items).

    Examples:

    \b
      aoai resp items resp_123
      aoai resp items resp_123 --all --order asc -o jsonl
    """
    with interruptible():
        from aoai import validation
        from aoai.responses import inputs, render, run

        inputs.check_response_id(response_id)
        if after is not None:
            validation.opaque_id(after, "--after", kind="item id", example="msg_0123abcd…")
        term = terminal()
        with open_session(Conn(endpoint, auth, scope, ca_bundle, max_retries, not no_journal)) as session:
            pages = run.InputItemPages(
                session,
                response_id,
                limit=limit,
                order=order.value if order is not None else None,
                after=after,
                include=include_values(include),
                follow=all_pages,
            )
            render.show_items(term, output, pages, follow=all_pages)
            error = pages.incomplete()
            if error is not None:
                raise error


def log(
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", min=1, max=1_000_000, help="How many entries.")
    ] = 20,
    output: opt.Output = OutputFormat.TEXT,
) -> None:
    """The local journal, newest first: ids, endpoint, deployment, status, last event seen, tokens.

    The journal ($AOAI_STATE_DIR/journal.sqlite3, mode 0600) holds no prompt, no output and no
    secret. `aoai resp resume-stream ID` continues from the last event recorded here.

    Examples:

    \b
      aoai resp log
      aoai resp log -n 5 -o json
    """
    with interruptible():
        from aoai.responses import render, run

        entries = run.journal_entries(state().env, limit=limit, notify=render.Notices())
        render.show_log(terminal(), output, entries)
