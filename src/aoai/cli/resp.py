"""``aoai resp``: Responses API operations (see docs/resp.md).

The group and its table of contents. The commands live in ``resp_create`` (create, approve) and
``resp_manage`` (everything on an existing response, compact, log); their options in
``resp_options``; what they share (session, terminal, Ctrl-C) in ``resp_session``.

The design's operation names are the primary commands (``retrieve``, ``resume-stream``); ``get`` and
``stream`` are short aliases of the same functions.
"""

from __future__ import annotations

import typer

from aoai.cli import resp_create, resp_manage

app = typer.Typer(
    help="Operate the Azure OpenAI Responses API: create, retrieve, resume-stream, cancel, delete, "
    "compact, list input items, and the local journal.\n\n"
    "Connection: --endpoint or AZURE_OPENAI_ENDPOINT; AZURE_OPENAI_API_KEY (api-key header) or "
    "--auth entra (Entra ID, scope https://ai.azure.com/.default). No secret is ever taken as a flag.",
    no_args_is_help=True,
)

app.command("create", short_help="Create a response: print, stream, or run in the background.")(resp_create.create)
app.command("approve", short_help="Approve (or deny) an MCP tool call a response is waiting for.")(resp_create.approve)
app.command("retrieve", short_help="Retrieve a response (text, or the object with -o json).")(resp_manage.retrieve)
app.command("get", short_help="Alias of retrieve.")(resp_manage.retrieve)
app.command("resume-stream", short_help="Stream a background response again, from where you left off.")(
    resp_manage.resume_stream
)
app.command("stream", short_help="Alias of resume-stream.")(resp_manage.resume_stream)
app.command("cancel", short_help="Cancel a background response; prints its final status.")(resp_manage.cancel)
app.command("delete", short_help="Delete a stored response.")(resp_manage.delete)
app.command("compact", short_help="Compact a conversation into fewer items.")(resp_manage.compact)
app.command("items", short_help="List the input items of a response.")(resp_manage.items)
app.command("log", short_help="Show the local journal of responses, newest first.")(resp_manage.log)
