"""The engine's rules: selection, deselected checks as skip, parts planning, waivers, verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from aoai.preflight.checks import all_checks
from aoai.preflight.engine import Selection, build_report, evaluate, parts_for
from aoai.preflight.policy import Policy, Waiver
from aoai.preflight.report import Area, FailOn, Status, Verdict

from .snapshots import LEGACY_POLICY, READY_POLICY, failed, legacy, ready

LEGACY_FAILING = [
    "AOAI002",
    "AOAI101",
    "AOAI201",
    "AOAI208",
    "AOAI303",
    "AOAI401",
    "AOAI402",
    "AOAI501",
    "AOAI502",
    "AOAI601",
    "AOAI602",
]


def _ids(report_findings: list, status: Status) -> list[str]:  # type: ignore[type-arg]
    return sorted({f.check for f in report_findings if f.status is status})


def test_ready_and_legacy_verdicts() -> None:
    ready_report = build_report([ready()], READY_POLICY, Selection.build(READY_POLICY))
    assert ready_report.verdict is Verdict.READY
    legacy_report = build_report([legacy()], LEGACY_POLICY, Selection.build(LEGACY_POLICY))
    assert legacy_report.verdict is Verdict.NOT_READY
    assert _ids(legacy_report.findings, Status.FAIL) == LEGACY_FAILING
    assert _ids(legacy_report.findings, Status.WARN) == ["AOAI205", "AOAI206", "AOAI403"]


def test_fail_on_warn_makes_warnings_block() -> None:
    snapshot = failed(ready(), "private_endpoint_connections")  # irrelevant to the network-only selection below
    policy = replace(READY_POLICY, fail_on=FailOn.WARN, only=("AOAI403",))
    outbound_open = ready()
    outbound_open.parts["account"].data["properties"]["restrictOutboundNetworkAccess"] = False
    assert build_report([outbound_open], policy, Selection.build(policy)).verdict is Verdict.NOT_READY
    assert build_report([outbound_open], READY_POLICY, Selection.build(READY_POLICY)).verdict is Verdict.READY
    assert build_report([snapshot], policy, Selection.build(policy)).verdict is Verdict.READY


def test_an_error_makes_the_run_incomplete_even_with_failures() -> None:
    report = build_report([failed(legacy(), "diagnostic_settings")], LEGACY_POLICY, Selection.build(LEGACY_POLICY))
    assert report.verdict is Verdict.INCOMPLETE
    assert _ids(report.findings, Status.ERROR) == ["AOAI501", "AOAI502"]


def test_deselected_checks_are_reported_as_skip_and_not_fetched() -> None:
    policy = replace(READY_POLICY, only=("network",), skip=("AOAI403",))
    selection = Selection.build(policy)
    assert selection.selected == {"AOAI401", "AOAI402"}
    findings = evaluate(ready(), policy, selection)
    assert len({f.check for f in findings}) == len(all_checks())
    skipped = [f for f in findings if f.check == "AOAI601"]
    assert skipped[0].status is Status.SKIP and "--only network" in skipped[0].message
    assert parts_for(selection) == {"account", "private_endpoint_connections"}


def test_area_commands_report_only_their_area() -> None:
    selection = Selection.build(Policy(), area=Area.DIAGNOSTICS)
    assert selection.universe == {"AOAI501", "AOAI502"}
    assert parts_for(selection) == {"account", "diagnostic_settings", "diagnostic_categories"}
    assert {f.check for f in evaluate(ready(), Policy(), selection)} == {"AOAI501", "AOAI502"}


def test_full_run_needs_every_arm_part() -> None:
    assert parts_for(Selection.build(Policy())) == {
        "account",
        "deployments",
        "location_models",
        "usages",
        "private_endpoint_connections",
        "diagnostic_settings",
        "diagnostic_categories",  # used by AOAI501 when available, read in the same gather
        "rai_policies",
    }


def test_waivers_expire_relative_to_the_snapshot_time() -> None:
    policy = replace(
        LEGACY_POLICY,
        waivers=(
            Waiver("AOAI401", "VNet migration", None, date(2026, 12, 31)),
            Waiver("AOAI601", "old clients", None, date(2026, 11, 1)),
        ),
    )
    report = build_report([legacy()], policy, Selection.build(policy))
    by_check = {f.check: f.status for f in report.findings}
    assert by_check["AOAI401"] is Status.WAIVED
    assert by_check["AOAI601"] is Status.FAIL
    assert any("AOAI601 expired on 2026-11-01" in note for note in report.notes)


def test_waiving_every_failure_makes_it_ready_but_warnings_stay() -> None:
    policy = replace(LEGACY_POLICY, waivers=tuple(Waiver(c, "accepted") for c in LEGACY_FAILING))
    report = build_report([legacy()], policy, Selection.build(policy))
    assert report.verdict is Verdict.READY
    assert report.counts()["waived"] == len(LEGACY_FAILING)
    assert report.counts()["warn"] == 3


def test_catalog_overrides_are_noted() -> None:
    policy = replace(LEGACY_POLICY, catalog=LEGACY_POLICY.catalog.with_overrides(extra_regions=["westeurope"]))
    report = build_report([legacy()], policy, Selection.build(policy))
    assert any("extra_regions westeurope" in note for note in report.notes)
    assert {f.check: f.status for f in report.findings}["AOAI101"] is Status.PASS


def test_selection_round_trips() -> None:
    selection = Selection.build(replace(READY_POLICY, skip=("AOAI4",)), probe=True)
    assert Selection.from_dict(selection.to_dict()) == selection


@pytest.mark.parametrize("area", [a for a in Area if a is not Area.ACCOUNT])
def test_every_area_has_checks(area: Area) -> None:
    assert Selection.build(Policy(), area=area).universe


def test_a_selection_that_leaves_nothing_is_a_usage_error() -> None:
    from aoai.errors import UsageError

    with pytest.raises(UsageError, match="none of the identity checks"):
        Selection.build(replace(READY_POLICY, only=("network",)), area=Area.IDENTITY)
    with pytest.raises(UsageError, match="none of the checks"):
        Selection.build(replace(READY_POLICY, skip=tuple(a.value for a in Area)))
