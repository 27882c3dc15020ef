"""GitHub-flavoured Markdown for pull-request comments and job summaries (``GITHUB_STEP_SUMMARY``).

Layout: a heading with the verdict in words ("Ready", "Not ready", "Incomplete"), a line
naming the account (or a table with one row per account when there are several), a table of
counts, a table of the findings to act on (fail, error, warn, waived) with remediation, a
collapsed ``<details>`` block with the passed and skipped checks, and the notes.

Every cell goes through :func:`escape_cell`: GitHub renders inline HTML and Markdown emphasis,
so text from ARM or the policy file must not be able to open a tag, break a table row (``|``,
newline) or turn into a link. Long reports are cut at ``max_rows`` rows per table, with a line
saying how many were left out (a PR comment holds at most 65,536 characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from aoai.preflight.formats import (
    STATUS_ORDER,
    VERDICT_LABELS,
    account_name,
    all_targets,
    counts_of,
    findings_of,
    title_of,
    waiver_text,
)
from aoai.preflight.report import Finding, Report, Status

if TYPE_CHECKING:
    from aoai.preflight.checks import CheckInfo

DEFAULT_MAX_ROWS = 200
ACTION_STATUSES = (Status.FAIL, Status.ERROR, Status.WARN, Status.WAIVED)
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]~|])")
# A code span: a run of backticks, content, the same run (CommonMark); never across lines here.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)([^\n]+?)(?<!`)\1(?!`)")


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_ACTIVE.sub(r"\\\1", text)


def escape_text(text: str) -> str:
    """Text safe inside Markdown: HTML-escaped and emphasis/link characters backslashed, except
    inside `code spans`, which stay code (nothing in a code span is read as HTML) with only ``|``
    escaped — remediation like `az … --name <account>-pe` keeps its placeholders readable."""
    out: list[str] = []
    at = 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[at : span.start()]))
        out.append(span.group(0).replace("|", "\\|"))
        at = span.end()
    out.append(_escape_plain(text[at:]))
    return "".join(out)


def escape_cell(text: str) -> str:
    """Text safe inside one table cell: as :func:`escape_text`, line breaks as ``<br>``."""
    lines = [escape_text(line.strip()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "<br>".join(line for line in lines if line)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _limited(rows: list[list[str]], max_rows: int) -> tuple[list[list[str]], int]:
    return rows[:max_rows], max(0, len(rows) - max_rows)


def _more(left_out: int) -> list[str]:
    return ["", f"…and {left_out} more (see the JSON evidence for every finding)."] if left_out else []


def _resource(finding: Finding) -> str:
    return finding.resource or account_name(finding.target)


def render(report: Report, *, checks: Mapping[str, CheckInfo], max_rows: int = DEFAULT_MAX_ROWS) -> str:
    targets = all_targets(report)
    fleet = len(targets) > 1
    verdict = report.verdict
    lines = [f"## aoai preflight: {VERDICT_LABELS[verdict]}", ""]
    exit_line = f"Verdict `{verdict.value}` (exit {int(report.exit_code)}), gate fails on `{report.fail_on.value}`."
    if not targets:
        lines += ["No accounts were checked.", "", exit_line]
    elif not fleet:
        lines += [f"Account **{escape_text(account_name(targets[0]))}** ({escape_text(targets[0])}). {exit_line}"]
    else:
        lines += [f"{len(targets)} accounts. {exit_line}", ""]
        rows = []
        for target in targets:
            findings = findings_of(report, target)
            counts = counts_of(findings)
            rows.append(
                [escape_cell(account_name(target)), VERDICT_LABELS[report.verdict_for(findings)]]
                + [str(counts[s]) for s in STATUS_ORDER]
            )
        shown, left_out = _limited(rows, max_rows)
        lines += _table(["Account", "Verdict", *(s.value for s in STATUS_ORDER)], shown) + _more(left_out)
    counts = counts_of(report.findings)
    lines += ["", *_table([s.value for s in STATUS_ORDER], [[str(counts[s]) for s in STATUS_ORDER]])]

    ordered = [f for target in targets for f in findings_of(report, target)]
    to_act = sorted(
        (f for f in ordered if f.status in ACTION_STATUSES), key=lambda f: ACTION_STATUSES.index(f.status)
    )  # stable: fails first, then errors, warnings, waivers; each in check order
    if to_act:
        header = ["Check", "Status", "Severity", "Resource", "Message", "Remediation"]
        if fleet:
            header.insert(0, "Account")
        rows = []
        for finding in to_act:
            message = finding.message
            waived = waiver_text(finding)
            if finding.status is Status.WAIVED and waived:
                message += f"\nWaived: {waived}"
            row = [
                f"{finding.check} {escape_cell(title_of(finding.check, checks))}",
                f"**{finding.status.value}**"
                if finding.status in (Status.FAIL, Status.ERROR)
                else finding.status.value,
                finding.severity.value,
                escape_cell(_resource(finding)),
                escape_cell(message),
                escape_cell(
                    finding.remediation or (checks[finding.check].remediation if finding.check in checks else "")
                ),
            ]
            if fleet:
                row.insert(0, escape_cell(account_name(finding.target)))
            rows.append(row)
        shown, left_out = _limited(rows, max_rows)
        lines += ["", "### Findings", "", *_table(header, shown), *_more(left_out)]
    elif targets:
        lines += ["", "Every check passed or was skipped."]

    quiet = [f for f in ordered if f.status in (Status.PASS, Status.SKIP)]
    if quiet:
        header = ["Check", "Status", "Resource", "Message"]
        if fleet:
            header.insert(0, "Account")
        rows = []
        for finding in quiet:
            row = [
                f"{finding.check} {escape_cell(title_of(finding.check, checks))}",
                finding.status.value,
                escape_cell(_resource(finding)),
                escape_cell(finding.message),
            ]
            if fleet:
                row.insert(0, escape_cell(account_name(finding.target)))
            rows.append(row)
        shown, left_out = _limited(rows, max_rows)
        passed = sum(1 for f in quiet if f.status is Status.PASS)
        summary = f"Passed ({passed}) and skipped ({len(quiet) - passed}) checks"
        lines += ["", "<details>", f"<summary>{summary}</summary>", "", *_table(header, shown), *_more(left_out)]
        lines += ["", "</details>"]

    if report.notes:
        lines += ["", "### Notes", ""]
        lines += [f"- {escape_text(' '.join(note.split()))}" for note in report.notes]
    return "\n".join(lines) + "\n"
