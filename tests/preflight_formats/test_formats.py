from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from aoai.preflight import formats
from aoai.preflight.formats import OutputFormat, area_of, render, worst_status
from aoai.preflight.report import Area, Report, Status

from .sample import CHECKS, LEGACY, legacy_report


def test_output_format_choices_and_readability() -> None:
    assert [f.value for f in OutputFormat] == ["table", "json", "sarif", "junit", "markdown"]
    assert {f for f in OutputFormat if f.is_human_readable()} == {OutputFormat.TABLE, OutputFormat.MARKDOWN}
    assert OutputFormat("sarif") is OutputFormat.SARIF


def test_json_is_delegated_to_the_evidence_renderer() -> None:
    with pytest.raises(ValueError, match="evidence"):
        render(OutputFormat.JSON, legacy_report(), checks=CHECKS)
    seen: list[Report] = []

    def evidence(report: Report) -> str:
        seen.append(report)
        return '{"schema_version": 1}\n'

    report = legacy_report()
    assert render("json", report, checks=CHECKS, json_renderer=evidence) == '{"schema_version": 1}\n'
    assert seen == [report]


def test_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        render("yaml", legacy_report(), checks=CHECKS)


def test_every_machine_format_renders_through_the_dispatch() -> None:
    when = datetime(2026, 11, 21, tzinfo=UTC)
    for fmt in (OutputFormat.SARIF, OutputFormat.JUNIT):
        text = render(fmt, legacy_report(), checks=CHECKS, generated_at=when)
        assert "AOAI101" in text
        assert "2026-11-21T00:00:00" in text
    sarif_text = render("sarif", legacy_report(), checks=CHECKS, policy_file="deploy/aoai.toml")
    assert '"uri": "deploy/aoai.toml"' in sarif_text
    assert '"uri": "aoai.toml"' in render("sarif", legacy_report(), checks=CHECKS)
    junit_text = render("junit", legacy_report(), checks=CHECKS, duration=1.25)
    assert 'time="1.250"' in junit_text


def test_importing_the_enum_does_not_import_rich() -> None:
    code = (
        "import sys; import aoai.preflight.formats as f; f.OutputFormat('table'); "
        "assert not any(m == 'rich' or m.startswith('rich.') for m in sys.modules), 'rich imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_area_of_uses_metadata_then_the_id() -> None:
    assert area_of("AOAI401", CHECKS) is Area.NETWORK
    assert area_of("AOAI701", {}) is Area.PROBE
    assert area_of("AOAI053", {}) is Area.ACCOUNT
    assert area_of("XYZ", {}) is None


def test_worst_status_order() -> None:
    assert worst_status([Status.PASS, Status.WARN, Status.ERROR, Status.FAIL]) is Status.FAIL
    assert worst_status([Status.PASS, Status.WARN, Status.ERROR]) is Status.ERROR
    assert worst_status([Status.PASS, Status.WAIVED, Status.SKIP]) is Status.WAIVED
    assert worst_status([Status.SKIP, Status.PASS]) is Status.PASS
    assert worst_status([]) is None


def test_targets_only_found_in_findings_are_still_rendered() -> None:
    report = legacy_report()
    report.targets = []
    assert formats.all_targets(report) == [LEGACY]
    assert "aoai-legacy" in render("markdown", report, checks=CHECKS)
