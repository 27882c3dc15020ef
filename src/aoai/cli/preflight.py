"""``aoai preflight``: release-readiness checks of an Azure OpenAI account (see docs/checks.md)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Check that an Azure OpenAI account is ready to release.", no_args_is_help=True)
