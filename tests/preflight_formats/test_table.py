from __future__ import annotations

import re

from aoai.preflight.formats import render, table
from aoai.preflight.report import FailOn, Report, Status

from .sample import CHECKS, LEGACY, READY, f, legacy_report

# Golden output at a fixed width (rich's own tests do the same). Trailing spaces are ignored.
GOLDEN_LEGACY_100 = """\
Account aoai-legacy  Incomplete
/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-aoai-demo/providers/Microsoft.
CognitiveServices/accounts/aoai-legacy
Check     Status   Severity   Title                        Message
────────────────────────────────────────────────────────────────────────────────────────────────────
AOAI001   pass     high       The account exists and is    Account aoai-legacy exists and is
                              provisioned                  Succeeded
AOAI101   fail     high       The region supports the      Account aoai-legacy is in westeurope,
                              Responses API                which has no Responses API
AOAI201   fail     high       Every required deployment    Deployment 'gpt-4o' does not exist: model
                              exists                       name used instead of deployment name
                                                           (deployments running gpt-4o: prod-chat)
AOAI205   warn     medium     Deployed models are not      Deployment 'prod-chat' runs gpt-4o
                              near retirement              2024-05-13, deprecated for inference in
                                                           40 days
AOAI401   waived   high       Public network access is     Account aoai-legacy allows public network
                              disabled                     access
                                                           Waived: migration ticket NET-42 (expires
                                                           2027-01-31)
AOAI403   skip     low        Outbound network access is   Outbound restriction not required by the
                              restricted                   policy
AOAI501   error    medium     Audit and request logs are   Diagnostic settings of aoai-legacy could
                              collected                    not be read: 403 AuthorizationFailed
                                                           (req-77)
AOAI601   pass     high       Local (key) authentication   Account aoai-legacy has local auth
                              is disabled                  disabled
2 fail · 1 error · 1 warn · 1 waived · 2 pass · 1 skip
Verdict: Incomplete (exit 4)

Note: Waiver for AOAI602 expired on 2026-01-01 and no longer applies
"""

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _multi_report() -> Report:
    report = legacy_report()
    report.findings += [f("AOAI001", Status.PASS, READY), f("AOAI401", Status.PASS, READY)]
    report.targets.append(READY)
    return report


def test_golden_single_target_at_width_100() -> None:
    assert _lines(table.render(legacy_report(), checks=CHECKS, width=100)) == GOLDEN_LEGACY_100


def test_dispatch_renders_the_same_table() -> None:
    assert render("table", legacy_report(), checks=CHECKS, width=100) == table.render(
        legacy_report(), checks=CHECKS, width=100
    )


def test_width_is_respected_and_defaults_to_100() -> None:
    for width in (60, 100, 160):
        text = table.render(legacy_report(), checks=CHECKS, width=width)
        assert max(len(line) for line in text.splitlines()) <= width
    assert table.render(legacy_report(), checks=CHECKS) == table.render(legacy_report(), checks=CHECKS, width=100)


def test_no_escape_codes_without_color_and_status_colours_with_it() -> None:
    plain = table.render(legacy_report(), checks=CHECKS, width=100)
    assert "\x1b" not in plain
    coloured = table.render(legacy_report(), checks=CHECKS, width=100, color=True)
    assert "\x1b[1;31mfail" in coloured  # bold red
    assert "\x1b[32mpass" in coloured  # green
    assert "\x1b[1;35merror" in coloured  # bold magenta
    assert _lines(ANSI.sub("", coloured)) == GOLDEN_LEGACY_100


def test_text_is_never_read_as_markup() -> None:
    report = Report([f("AOAI101", Status.FAIL, message="[bold]x[/bold] :smile: [link=http://e]y[/link]")], [LEGACY])
    text = table.render(report, checks=CHECKS, width=160)
    assert "[bold]x[/bold] :smile: [link=http://e]y[/link]" in text


def test_multi_target_sections_totals_and_verdict() -> None:
    text = _lines(table.render(_multi_report(), checks=CHECKS, width=100))
    assert "Account aoai-legacy  Incomplete\n" in text
    assert "Account aoai-ready  Ready\n" in text
    assert text.index("aoai-legacy") < text.index("Account aoai-ready")
    assert "0 fail · 0 error · 0 warn · 0 waived · 2 pass · 0 skip\n" in text
    assert "2 accounts: 1 ready, 0 not ready, 1 incomplete\n" in text
    assert "Total: 2 fail · 1 error · 1 warn · 1 waived · 4 pass · 1 skip\n" in text
    assert text.endswith(
        "Verdict: Incomplete (exit 4)\n\nNote: Waiver for AOAI602 expired on 2026-01-01 and no longer applies\n"
    )


def test_not_ready_and_fail_on_warn() -> None:
    report = Report([f("AOAI205", Status.WARN, resource="prod-chat")], [LEGACY])
    assert "Verdict: Ready (exit 0)" in table.render(report, checks=CHECKS)
    report.fail_on = FailOn.WARN
    assert "Verdict: Not ready (exit 1)" in table.render(report, checks=CHECKS)


def test_empty_report() -> None:
    assert _lines(table.render(Report([], []), checks=CHECKS)) == "No targets were checked.\nVerdict: Ready (exit 0)\n"
    text = table.render(Report([], [LEGACY]), checks=CHECKS)
    assert "No checks were run for this account." in text


def test_fleet_summary_worst_status_per_area() -> None:
    text = _lines(table.render_fleet_summary(_multi_report(), checks=CHECKS, width=100))
    lines = text.splitlines()
    assert lines[0].split() == [
        "Account",
        "account",
        "region",
        "deployments",
        "network",
        "diagnostics",
        "identity",
        "Verdict",
    ]
    assert lines[2].split() == ["aoai-legacy", "pass", "fail", "fail", "waived", "error", "pass", "Incomplete"]
    assert lines[3].split() == ["aoai-ready", "pass", "–", "–", "pass", "–", "–", "Ready"]
    assert "2 accounts: 1 ready, 0 not ready, 1 incomplete  →  Incomplete" in text


def test_fleet_summary_prefers_fail_over_error_and_warn() -> None:
    report = Report(
        [
            f("AOAI401", Status.WARN),
            f("AOAI401", Status.ERROR, resource="pe-1"),
            f("AOAI403", Status.FAIL),
            f("AOAI501", Status.PASS),
            f("AOAI302", Status.WARN),  # not in CHECKS: area from its number (3xx = skus)
        ],
        [LEGACY],
    )
    lines = _lines(table.render_fleet_summary(report, checks=CHECKS, width=100)).splitlines()
    assert lines[0].split() == ["Account", "skus", "network", "diagnostics", "Verdict"]
    assert lines[2].split() == ["aoai-legacy", "warn", "fail", "pass", "Incomplete"]


def test_fleet_summary_of_nothing() -> None:
    text = table.render_fleet_summary(Report([], []), checks=CHECKS)
    assert text.startswith("No targets were checked.\n0 accounts: 0 ready, 0 not ready, 0 incomplete")
