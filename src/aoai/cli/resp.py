"""``aoai resp``: Responses API operations (see docs/resp.md)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Operate the Azure OpenAI Responses API.", no_args_is_help=True)
