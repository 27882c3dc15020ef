"""Terminal table of a preflight report (rich), rendered to a string at a known width.

Per target: a header (account, verdict, resource id), a table of findings (check, status,
severity, title, message), a summary line with counts and the verdict. Notes (expired waivers,
catalog overrides) come last. Everything user-supplied goes in as ``Text``, never as markup, so
a message holding ``[bold]`` prints as written. Without ``color`` no escape code is emitted.

``render_fleet_summary`` is the many-targets view: one row per target, one column per area,
each cell the worst status of that area.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from aoai.preflight.formats import (
    STATUS_ORDER,
    VERDICT_LABELS,
    account_name,
    all_targets,
    area_of,
    console_text,
    counts_of,
    findings_of,
    string_console,
    title_of,
    waiver_text,
    worst_status,
)
from aoai.preflight.report import Area, Finding, Report, Severity, Status, Verdict

if TYPE_CHECKING:
    from aoai.preflight.checks import CheckInfo

DEFAULT_WIDTH = 100

STATUS_STYLES: dict[Status, str] = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.SKIP: "dim",
    Status.WAIVED: "cyan",
}
SEVERITY_STYLES: dict[Severity, str] = {Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "dim"}
VERDICT_STYLES: dict[Verdict, str] = {
    Verdict.READY: "bold green",
    Verdict.NOT_READY: "bold red",
    Verdict.INCOMPLETE: "bold magenta",
}


def _status(status: Status) -> Text:
    return Text(status.value, style=STATUS_STYLES[status])


def _verdict(verdict: Verdict) -> Text:
    return Text(VERDICT_LABELS[verdict], style=VERDICT_STYLES[verdict])


def _counts_line(findings: list[Finding]) -> Text:
    counts = counts_of(findings)
    line = Text()
    for index, status in enumerate(STATUS_ORDER):
        if index:
            line.append(" · ")
        line.append(f"{counts[status]} {status.value}", style=STATUS_STYLES[status] if counts[status] else "")
    return line


def _message(finding: Finding) -> Text:
    text = Text(finding.message)
    waived = waiver_text(finding)
    if finding.status is Status.WAIVED and waived:
        text.append(f"\nWaived: {waived}", style="cyan")
    return text


def _findings_table(findings: list[Finding], checks: Mapping[str, CheckInfo]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Title", ratio=2, overflow="fold")
    table.add_column("Message", ratio=3, overflow="fold")
    for finding in findings:
        table.add_row(
            Text(finding.check),
            _status(finding.status),
            Text(finding.severity.value, style=SEVERITY_STYLES[finding.severity]),
            Text(title_of(finding.check, checks)),
            _message(finding),
        )
    return table


def render(
    report: Report,
    *,
    checks: Mapping[str, CheckInfo],
    width: int | None = None,
    color: bool = False,
) -> str:
    console = string_console(width or DEFAULT_WIDTH, color)
    targets = all_targets(report)
    verdicts = {t: report.verdict_for([f for f in report.findings if f.target == t]) for t in targets}
    if not targets:
        console.print(Text("No targets were checked."))
    for index, target in enumerate(targets):
        findings = findings_of(report, target)
        if index:
            console.print()
        header = Text("Account ", style="bold")
        header.append(account_name(target), style="bold")
        header.append("  ")
        header.append_text(_verdict(verdicts[target]))
        console.print(header)
        console.print(Text(target, style="dim"), overflow="fold")
        if findings:
            console.print(_findings_table(findings, checks))
        else:
            console.print(Text("No checks were run for this account.", style="dim"))
        console.print(_counts_line(findings))
    if len(targets) > 1:
        console.print()
        tally = {v: sum(1 for t in targets if verdicts[t] is v) for v in Verdict}
        line = Text(f"{len(targets)} accounts: ", style="bold")
        line.append(", ".join(f"{tally[v]} {VERDICT_LABELS[v].lower()}" for v in Verdict))
        console.print(line)
        total = Text("Total: ", style="bold")
        total.append_text(_counts_line(report.findings))
        console.print(total)
    verdict_line = Text("Verdict: ", style="bold")
    verdict_line.append_text(_verdict(report.verdict))
    verdict_line.append(f" (exit {int(report.exit_code)})")
    console.print(verdict_line)
    if report.notes:
        console.print()
        for note in report.notes:
            console.print(Text(f"Note: {note}", style="yellow"), overflow="fold")
    return console_text(console)


def render_fleet_summary(
    report: Report,
    *,
    checks: Mapping[str, CheckInfo],
    width: int | None = None,
    color: bool = False,
) -> str:
    """Targets × areas: the worst status per area and the verdict per account, then totals.

    Columns are the areas that have at least one finding, in the order of ``Area``; a dash means
    no check of that area ran for that account.
    """
    console = string_console(width or DEFAULT_WIDTH, color)
    targets = all_targets(report)
    by_cell: dict[tuple[str, Area | None], list[Status]] = {}
    for finding in report.findings:
        by_cell.setdefault((finding.target, area_of(finding.check, checks)), []).append(finding.status)
    present = {area for (_, area) in by_cell}
    areas: list[Area | None] = [a for a in Area if a in present]
    if None in present:
        areas.append(None)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Account", overflow="fold")
    for area in areas:
        table.add_column(area.value if area else "other", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    tally = dict.fromkeys(Verdict, 0)
    for target in targets:
        verdict = report.verdict_for([f for f in report.findings if f.target == target])
        tally[verdict] += 1
        cells: list[Text] = [Text(account_name(target))]
        for area in areas:
            worst = worst_status(by_cell.get((target, area), []))
            cells.append(_status(worst) if worst else Text("–", style="dim"))
        cells.append(_verdict(verdict))
        table.add_row(*cells)
    if targets:
        console.print(table)
    else:
        console.print(Text("No targets were checked."))
    line = Text(f"{len(targets)} accounts: ", style="bold")
    line.append(", ".join(f"{tally[v]} {VERDICT_LABELS[v].lower()}" for v in Verdict))
    line.append("  →  ")
    line.append_text(_verdict(report.verdict))
    console.print(line)
    if report.notes:
        for note in report.notes:
            console.print(Text(f"Note: {note}", style="yellow"), overflow="fold")
    return console_text(console)
