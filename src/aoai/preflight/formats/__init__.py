"""Output formats of ``aoai preflight``: one module per format, one small interface.

Every format is a pure function of a :class:`~aoai.preflight.report.Report` (plus the check
metadata) to ``str``; writing the string is the caller's job. ``OutputFormat`` is the one choice
set the CLI option and the docs use. The JSON evidence is not rendered here: it is a signed audit
document owned by ``aoai.preflight.evidence``, so :func:`render` takes it as a callable.

This package imports nothing heavy at module level (rich is imported by ``table`` only, when a
table is rendered), so the CLI can import the enum while ``aoai --help`` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from aoai.preflight.report import Area, FailOn, Finding, Report, Status, Verdict

if TYPE_CHECKING:
    from rich.console import Console

    from aoai.preflight.checks import CheckInfo


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"

    def is_human_readable(self) -> bool:
        """True for formats meant to be read by a person (terminal table, Markdown)."""
        return self in (OutputFormat.TABLE, OutputFormat.MARKDOWN)


VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.READY: "Ready",
    Verdict.NOT_READY: "Not ready",
    Verdict.INCOMPLETE: "Incomplete",
}

# Order in which statuses are listed in summaries (most urgent first).
STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.ERROR,
    Status.WARN,
    Status.WAIVED,
    Status.PASS,
    Status.SKIP,
)

# "Worst status" of a group of findings (fleet summary): a definite fail is the most actionable,
# then a check that could not be evaluated, then a warning. Lower rank = worse.
_WORST_RANK: dict[Status, int] = {status: rank for rank, status in enumerate(STATUS_ORDER)}

# DESIGN.md: AOAI + 3 digits; the hundreds digit is the area.
_AREA_BY_DIGIT: dict[str, Area] = {
    "0": Area.ACCOUNT,
    "1": Area.REGION,
    "2": Area.DEPLOYMENTS,
    "3": Area.SKUS,
    "4": Area.NETWORK,
    "5": Area.DIAGNOSTICS,
    "6": Area.IDENTITY,
    "7": Area.PROBE,
}
_CHECK_ID = re.compile(r"^AOAI(\d)\d\d$")


def render(
    fmt: OutputFormat | str,
    report: Report,
    *,
    checks: Mapping[str, CheckInfo],
    width: int | None = None,
    color: bool = False,
    generated_at: datetime | None = None,
    duration: float | None = None,
    policy_file: str | None = None,
    json_renderer: Callable[[Report], str] | None = None,
) -> str:
    """Render ``report`` in ``fmt``. ``checks`` supplies titles, areas and remediation (usually
    the registry). ``width``/``color`` matter to the table only; ``generated_at`` stamps SARIF and
    JUnit (default: now); ``duration`` (seconds) is the JUnit suite time; ``policy_file`` (a path
    relative to the repository root, default ``aoai.toml``) is the SARIF results' file location.
    JSON is the evidence document: pass ``json_renderer`` or get ValueError.
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.TABLE:
        from aoai.preflight.formats import table

        return table.render(report, checks=checks, width=width, color=color)
    if fmt is OutputFormat.SARIF:
        from aoai.preflight.formats import sarif

        return sarif.render(
            report, checks=checks, generated_at=generated_at, artifact_uri=policy_file or sarif.DEFAULT_ARTIFACT_URI
        )
    if fmt is OutputFormat.JUNIT:
        from aoai.preflight.formats import junit

        return junit.render(report, checks=checks, generated_at=generated_at, duration=duration)
    if fmt is OutputFormat.MARKDOWN:
        from aoai.preflight.formats import markdown

        return markdown.render(report, checks=checks)
    if json_renderer is None:
        raise ValueError("the json format is the evidence document: render it with aoai.preflight.evidence")
    return json_renderer(report)


# ---- rich helpers shared by the terminal tables (rich imported on first use) ----


def string_console(width: int, color: bool) -> Console:
    """A rich console that renders into a string at ``width`` columns: ANSI colours only with
    ``color``, no markup, emoji or highlighting (every value is printed as written)."""
    from io import StringIO

    from rich.console import Console

    return Console(
        file=StringIO(),
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        soft_wrap=False,
    )


def console_text(console: Console) -> str:
    """What was printed to a :func:`string_console`."""
    from io import StringIO

    file = console.file
    assert isinstance(file, StringIO)
    return file.getvalue()


# ---- helpers shared by the format modules (plain data, no rendering) ----


def account_name(target: str) -> str:
    """The account name of an ARM resource id (its last segment); the input itself otherwise."""
    segments = [s for s in target.split("/") if s]
    return segments[-1] if segments else target


def area_of(check_id: str, checks: Mapping[str, CheckInfo]) -> Area | None:
    """The check's area from its metadata, else from its id's hundreds digit, else None."""
    info = checks.get(check_id)
    if info is not None:
        return info.area
    match = _CHECK_ID.match(check_id)
    return _AREA_BY_DIGIT.get(match.group(1)) if match else None


def worst_status(statuses: Iterable[Status]) -> Status | None:
    """The most actionable status of a group (fail > error > warn > waived > pass > skip)."""
    ranked = sorted(statuses, key=lambda s: _WORST_RANK[s])
    return ranked[0] if ranked else None


def all_targets(report: Report) -> list[str]:
    """The report's targets in order, plus any target that only appears in a finding."""
    targets = list(dict.fromkeys(report.targets))
    for finding in report.findings:
        if finding.target not in targets:
            targets.append(finding.target)
    return targets


def findings_of(report: Report, target: str) -> list[Finding]:
    """The target's findings, ordered by check id then resource (stable, readable output)."""
    return sorted(
        (f for f in report.findings if f.target == target),
        key=lambda f: (f.check, f.resource or ""),
    )


def counts_of(findings: Iterable[Finding]) -> dict[Status, int]:
    counts = dict.fromkeys(Status, 0)
    for finding in findings:
        counts[finding.status] += 1
    return counts


def blocks_gate(finding: Finding, report: Report) -> bool:
    """True when this finding alone would make the run not ready or incomplete."""
    if finding.status in (Status.FAIL, Status.ERROR):
        return True
    return finding.status is Status.WARN and report.fail_on is FailOn.WARN


def waiver_text(finding: Finding) -> str | None:
    """The waiver as "reason (expires 2026-12-31)"; None when no waiver applied."""
    if not finding.waiver:
        return None
    reason = str(finding.waiver.get("reason") or "no reason given")
    expires = finding.waiver.get("expires")
    return f"{reason} (expires {expires})" if expires else reason


def title_of(check_id: str, checks: Mapping[str, CheckInfo]) -> str:
    info = checks.get(check_id)
    return info.title if info is not None else check_id
