"""Terminal table of an ``aoai preflight capacity`` result (rich), rendered to a string at a known width.

A header (model, version, SKU, capacity, subscription), one row per region and SKU in the result's
order (fitting first), a summary line with the exit code and the ARM cost, then what was left out
(Deprecated or retired, no Responses API under ``--responses-only``) and notes. Every value goes in
as ``Text``, never as markup. Without ``color`` no escape code is emitted.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from aoai.preflight.capacity import CapacityResult, Row
from aoai.preflight.formats import console_text, string_console

DEFAULT_WIDTH = 120
_LIFECYCLE_SHORT = {"GenerallyAvailable": "GA"}


def _number(value: int | None, *, unknown: str = "?") -> Text:
    return Text(unknown if value is None else str(value), style="dim" if value is None else "")


def _quota(row: Row) -> Text:
    if not row.offered:
        return Text("–", style="dim")
    if row.quota_left is None:
        return Text("?", style="magenta")
    text = Text(str(row.quota_left))
    text.append(f" of {row.quota_limit}", style="dim")
    return text


def _lifecycle(row: Row) -> Text:
    if row.lifecycle is None:
        return Text("–", style="dim")
    text = Text(_LIFECYCLE_SHORT.get(row.lifecycle, row.lifecycle))
    if row.retiring and row.retires_on:
        text.append(f", retires {row.retires_on} ({row.retires_in_days} d)", style="yellow")
    return text


def _fits(row: Row) -> Text:
    return Text("yes", style="bold green") if row.fits else Text("no", style="red")


def _notes(row: Row) -> Text:
    # The Lifecycle column already says what these notes say.
    parts = [note for note in row.notes if not note.startswith(("retires ", "lifecycle "))]
    if row.error:
        parts.insert(0, row.error)
    return Text("; ".join(parts), style="magenta" if row.error else "")


def _header(result: CapacityResult) -> Text:
    query = result.query
    header = Text(f"{query.model} {result.version}", style="bold")
    header.append(f" ({query.model_format})", style="dim")
    header.append(f" · {query.sku or 'every SKU'}")
    header.append(f" · capacity {query.capacity}" if query.capacity is not None else " · any capacity")
    header.append(f" · subscription {result.subscription}", style="dim")
    return header


def render(result: CapacityResult, *, width: int | None = None, color: bool = False) -> str:
    console = string_console(width or DEFAULT_WIDTH, color)
    console.print(_header(result), overflow="fold")
    if result.rows:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("Region", no_wrap=True)
        table.add_column("SKU", no_wrap=True)
        table.add_column("Available", justify="right", no_wrap=True)
        table.add_column("Quota left", justify="right", no_wrap=True)
        table.add_column("Fits", no_wrap=True)
        table.add_column("Lifecycle", no_wrap=True)
        table.add_column("Responses API", no_wrap=True)
        table.add_column("Notes", overflow="fold", ratio=1)
        for row in result.rows:
            table.add_row(
                Text(row.region),
                Text(row.sku or "–", style="" if row.sku else "dim"),
                _number(row.available, unknown="–"),
                _quota(row),
                _fits(row),
                _lifecycle(row),
                Text("yes" if row.responses_api else "no", style="" if row.responses_api else "yellow"),
                _notes(row),
            )
        console.print(table)
    else:
        console.print(Text("No region matched the filters.", style="dim"))
    line = Text(result.summary(), style="bold green" if result.fitting else "bold red")
    line.append(f" (exit {int(result.exit_code)})")
    line.append(f" · {result.requests} ARM requests in {result.elapsed_ms / 1000:.2f} s", style="dim")
    console.print(line)
    for skipped in result.skipped:
        label = f"{skipped.region}/{skipped.sku}" if skipped.sku else skipped.region
        console.print(Text(f"Left out: {label} — {skipped.reason}", style="dim"), overflow="fold")
    for note in result.notes:
        console.print(Text(f"Note: {note}", style="yellow"), overflow="fold")
    return console_text(console)
