from __future__ import annotations

from aoai.preflight.formats import markdown, render
from aoai.preflight.report import FailOn, Report, Status

from .sample import CHECKS, LEGACY, READY, f, legacy_report


def _md(report: Report, **kwargs: int) -> str:
    return markdown.render(report, checks=CHECKS, **kwargs)


def _table_rows(text: str, header_start: str) -> list[list[str]]:
    """The cells of the table whose header line starts with ``header_start`` (pipes escaped as \\|)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = line.replace("\\|", "\x00").strip("|").split("|")
        rows.append([c.strip().replace("\x00", "\\|") for c in cells])
    return rows


def test_single_target_structure() -> None:
    text = _md(legacy_report())
    lines = text.splitlines()
    assert lines[0] == "## aoai preflight: Incomplete"
    assert lines[2] == (f"Account **aoai-legacy** ({LEGACY}). Verdict `incomplete` (exit 4), gate fails on `fail`.")
    assert (
        "| fail | error | warn | waived | pass | skip |\n|---|---|---|---|---|---|\n| 2 | 1 | 1 | 1 | 2 | 1 |" in text
    )
    rows = _table_rows(text, "| Check | Status | Severity | Resource | Message | Remediation |")
    # fails first, then errors, warnings, waivers
    assert [(r[0][:7], r[1], r[2], r[3]) for r in rows] == [
        ("AOAI101", "**fail**", "high", "aoai-legacy"),
        ("AOAI201", "**fail**", "high", "gpt-4o"),
        ("AOAI501", "**error**", "medium", "aoai-legacy"),
        ("AOAI205", "warn", "medium", "prod-chat"),
        ("AOAI401", "waived", "high", "aoai-legacy"),
    ]
    assert rows[0][0] == "AOAI101 The region supports the Responses API"
    assert rows[0][4] == "Account aoai-legacy is in westeurope, which has no Responses API"
    assert rows[0][5] == "az cognitiveservices account update --fix AOAI101"
    assert rows[4][4] == (
        "Account aoai-legacy allows public network access<br>Waived: migration ticket NET-42 (expires 2027-01-31)"
    )
    # passes and skips: collapsed
    details = text[text.index("<details>") : text.index("</details>")]
    assert "<summary>Passed (2) and skipped (1) checks</summary>\n\n| Check | Status | Resource | Message |" in details
    quiet = _table_rows(details, "| Check | Status | Resource | Message |")
    assert [(r[0][:7], r[1]) for r in quiet] == [("AOAI001", "pass"), ("AOAI403", "skip"), ("AOAI601", "pass")]
    assert "AOAI001" not in text[: text.index("<details>")]
    assert text.endswith("### Notes\n\n- Waiver for AOAI602 expired on 2026-01-01 and no longer applies\n")


def test_dispatch() -> None:
    assert render("markdown", legacy_report(), checks=CHECKS) == _md(legacy_report())


def test_verdict_headings() -> None:
    ready = Report([f("AOAI101", Status.PASS)], [LEGACY])
    assert _md(ready).startswith("## aoai preflight: Ready\n")
    assert "Every check passed or was skipped." in _md(ready)
    not_ready = Report([f("AOAI101", Status.FAIL)], [LEGACY])
    assert _md(not_ready).startswith("## aoai preflight: Not ready\n")
    warned = Report([f("AOAI205", Status.WARN)], [LEGACY], fail_on=FailOn.WARN)
    assert _md(warned).startswith("## aoai preflight: Not ready\n")
    assert "gate fails on `warn`" in _md(warned)


def test_escaping_pipes_html_newlines_and_emphasis() -> None:
    message = "Deployment `a|b` <img src=x onerror=alert(1)> & *bold* [link](http://e) _u_\nsecond line\r\nthird"
    report = Report(
        [f("AOAI201", Status.FAIL, resource="a|b", message=message)],
        [LEGACY],
    )
    text = _md(report)
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp;" in text
    rows = _table_rows(text, "| Check |")
    assert len(rows) == 1
    row = rows[0]
    assert len(row) == 6  # no pipe broke the row
    assert row[3] == "a\\|b"
    assert row[4] == (
        "Deployment `a\\|b` &lt;img src=x onerror=alert(1)&gt; &amp; \\*bold\\* \\[link\\](http://e) \\_u\\_"
        "<br>second line<br>third"
    )
    assert markdown.escape_cell("C:\\path|x") == "C:\\\\path\\|x"


def test_code_spans_stay_code() -> None:
    remediation = "Run `az network private-endpoint create --name <account>-pe` then check | done"
    assert markdown.escape_cell(remediation) == (
        "Run `az network private-endpoint create --name <account>-pe` then check \\| done"
    )
    # a code span cannot carry HTML out of it, and an unmatched backtick is plain text
    assert markdown.escape_cell("`<b>|x`") == "`<b>\\|x`"
    assert markdown.escape_cell("a ` <b>") == "a \\` &lt;b&gt;"
    assert markdown.escape_cell("``a`b|c``") == "``a`b\\|c``"


def test_notes_are_escaped_and_single_line() -> None:
    report = Report([], [LEGACY], notes=["waiver <b>x</b>\nexpired | gone"])
    assert "- waiver &lt;b&gt;x&lt;/b&gt; expired \\| gone\n" in _md(report)


def test_fleet_one_row_per_target_and_account_column() -> None:
    report = legacy_report()
    report.findings += [f("AOAI001", Status.PASS, READY), f("AOAI401", Status.FAIL, READY, message="open")]
    report.targets.append(READY)
    text = _md(report)
    assert "2 accounts. Verdict `incomplete` (exit 4), gate fails on `fail`." in text
    targets = _table_rows(text, "| Account | Verdict |")
    assert targets == [
        ["aoai-legacy", "Incomplete", "2", "1", "1", "1", "2", "1"],
        ["aoai-ready", "Not ready", "1", "0", "0", "0", "1", "0"],
    ]
    findings = _table_rows(text, "| Account | Check |")
    assert [(r[0], r[1][:7]) for r in findings] == [
        ("aoai-legacy", "AOAI101"),
        ("aoai-legacy", "AOAI201"),
        ("aoai-ready", "AOAI401"),
        ("aoai-legacy", "AOAI501"),
        ("aoai-legacy", "AOAI205"),
        ("aoai-legacy", "AOAI401"),
    ]
    assert "<summary>Passed (3) and skipped (1) checks</summary>" in text


def test_max_rows_cuts_long_tables_and_says_so() -> None:
    findings = [f("AOAI201", Status.FAIL, resource=f"dep-{i:03}") for i in range(30)]
    text = _md(Report(findings, [LEGACY]), max_rows=10)
    assert len(_table_rows(text, "| Check |")) == 10
    assert "…and 20 more (see the JSON evidence for every finding)." in text


def test_empty_report() -> None:
    text = _md(Report([], []))
    assert text.startswith("## aoai preflight: Ready\n\nNo accounts were checked.")
    assert "<details>" not in text
    assert "### Findings" not in text
