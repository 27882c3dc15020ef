from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

import aoai
from aoai.preflight.formats import sarif
from aoai.preflight.report import FailOn, Report, Severity, Status

from ..conftest import REFERENCE
from .sample import CHECKS, LEGACY, READY, f, legacy_report

SCHEMA = REFERENCE / "schemas" / "sarif-schema-2.1.0.json"
WHEN = datetime(2026, 11, 21, 9, 30, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def validator() -> Any:
    if not SCHEMA.exists():
        pytest.skip("reference SARIF schema absent")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _log(report: Report, **kwargs: Any) -> dict[str, Any]:
    text = sarif.render(report, checks=CHECKS, generated_at=WHEN, **kwargs)
    document: dict[str, Any] = json.loads(text)
    return document


def _results(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in document["runs"][0]["results"]}


def _multi_report() -> Report:
    report = legacy_report()
    report.findings += [f("AOAI001", Status.PASS, READY), f("AOAI401", Status.FAIL, READY, message="open")]
    report.targets.append(READY)
    return report


@pytest.mark.parametrize(
    ("report", "kwargs"),
    [
        (legacy_report(), {}),
        (legacy_report(), {"include_passes": True}),
        (_multi_report(), {}),
        (Report([], []), {}),
        (Report([f("AOAI302", Status.FAIL, message="unknown to the catalog | <x> & y\nz")], [LEGACY]), {}),
    ],
    ids=["legacy", "with-passes", "multi-target", "empty", "unknown-check"],
)
def test_valid_against_the_sarif_2_1_0_schema(validator: Any, report: Report, kwargs: dict[str, Any]) -> None:
    document = _log(report, **kwargs)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert errors == []


def test_the_schema_check_can_fail(validator: Any) -> None:
    document = _log(legacy_report())
    document["runs"][0]["results"][0]["level"] = "fatal"
    document["runs"][0]["results"][0]["suppressions"] = [{"kind": "maybe"}]
    assert len(list(validator.iter_errors(document))) >= 2


def test_tool_driver_and_rules_cover_only_checks_with_results() -> None:
    document = _log(legacy_report())
    assert document["version"] == "2.1.0"
    assert len(document["runs"]) == 1
    driver = document["runs"][0]["tool"]["driver"]
    assert driver["name"] == "aoai"
    assert driver["version"] == aoai.__version__
    # pass (AOAI001, AOAI601) and skip (AOAI403) are not results, so not rules
    assert [r["id"] for r in driver["rules"]] == ["AOAI101", "AOAI201", "AOAI205", "AOAI401", "AOAI501"]
    rule = driver["rules"][3]
    assert rule["name"] == "PublicNetworkAccessIsDisabled"
    assert rule["shortDescription"]["text"] == "Public network access is disabled"
    assert rule["fullDescription"]["text"] == "What AOAI401 checks."
    assert "az cognitiveservices account update --fix AOAI401" in rule["help"]["text"]
    assert (
        "<https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks>"
        in rule["help"]["markdown"]
    )
    assert rule["helpUri"] == "https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks"
    props = rule["properties"]
    assert props["area"] == "network"
    assert props["severity"] == "high"
    assert props["security-severity"] == "8.0"
    assert "security" in props["tags"]
    assert props["controls"][0] == {
        "kind": "azure-policy",
        "id": "0725b4dd-7e76-479c-a735-68e7ee23d5ca",
        "name": "Public network access disabled",
    }
    assert props["controls"][1]["id"] == "Azure.Cognitive.PublicAccess"
    severities = {r["id"]: r["properties"]["security-severity"] for r in driver["rules"]}
    assert severities["AOAI205"] == "5.0"
    assert "security" not in driver["rules"][0]["properties"]["tags"]  # region is not a security control
    for result in document["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_kind_and_level_mapping() -> None:
    results = _results(_log(legacy_report()))
    assert set(results) == {"AOAI101", "AOAI201", "AOAI205", "AOAI401", "AOAI501"}
    assert (results["AOAI101"]["kind"], results["AOAI101"]["level"]) == ("fail", "error")  # fail, high
    assert (results["AOAI205"]["kind"], results["AOAI205"]["level"]) == ("fail", "warning")  # warn, medium
    assert (results["AOAI501"]["kind"], results["AOAI501"]["level"]) == ("fail", "warning")  # error
    assert results["AOAI501"]["properties"]["status"] == "error"
    assert results["AOAI501"]["message"]["text"].startswith("Could not evaluate: Diagnostic settings")
    assert results["AOAI101"]["properties"]["blocking"] is True
    assert results["AOAI205"]["properties"]["blocking"] is False
    assert _results(_log(legacy_report(FailOn.WARN)))["AOAI205"]["properties"]["blocking"] is True

    cases = {
        (Status.FAIL, Severity.HIGH): ("fail", "error"),
        (Status.FAIL, Severity.MEDIUM): ("fail", "warning"),
        (Status.FAIL, Severity.LOW): ("fail", "note"),
        (Status.WARN, Severity.HIGH): ("fail", "warning"),
        (Status.WARN, Severity.LOW): ("fail", "note"),
        (Status.ERROR, Severity.LOW): ("fail", "warning"),
        (Status.WAIVED, Severity.MEDIUM): ("fail", "warning"),
        (Status.PASS, Severity.HIGH): ("pass", "none"),
        (Status.SKIP, Severity.HIGH): ("notApplicable", "none"),
    }
    for (status, severity), expected in cases.items():
        assert sarif.kind_and_level(f("AOAI101", status, severity=severity)) == expected, (status, severity)


def test_waived_findings_carry_an_accepted_external_suppression() -> None:
    result = _results(_log(legacy_report()))["AOAI401"]
    assert result["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "migration ticket NET-42 (expires 2027-01-31)",
            "properties": {"check": "AOAI401", "reason": "migration ticket NET-42", "expires": "2027-01-31"},
        }
    ]
    for rule_id, other in _results(_log(legacy_report())).items():
        if rule_id != "AOAI401":
            assert "suppressions" not in other


def test_passes_only_on_request() -> None:
    default = _log(legacy_report())
    statuses = {r["properties"]["status"] for r in default["runs"][0]["results"]}
    assert statuses == {"fail", "warn", "error", "waived"}
    full = _results(_log(legacy_report(), include_passes=True))
    assert (full["AOAI001"]["kind"], full["AOAI001"]["level"]) == ("pass", "none")
    assert (full["AOAI403"]["kind"], full["AOAI403"]["level"]) == ("notApplicable", "none")


def test_locations_physical_for_github_and_logical_for_the_resource() -> None:
    result = _results(_log(legacy_report()))["AOAI201"]
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "aoai.toml"
    assert location["logicalLocations"] == [{"name": "aoai-legacy", "fullyQualifiedName": LEGACY, "kind": "resource"}]
    assert result["properties"]["resource"] == "gpt-4o"
    assert result["properties"]["target"] == LEGACY
    assert result["properties"]["source"]["request_id"] == "req-0001"
    custom = _results(_log(legacy_report(), artifact_uri="infra/aoai.toml"))["AOAI201"]
    assert custom["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/aoai.toml"


def test_fingerprints_are_stable_and_distinct_per_check_target_resource() -> None:
    first = _log(_multi_report())["runs"][0]["results"]
    again = _log(_multi_report())["runs"][0]["results"]
    prints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in first]
    assert prints == [r["partialFingerprints"]["primaryLocationLineHash"] for r in again]
    assert len(set(prints)) == len(prints)
    # AOAI401 on two accounts: two alerts, not one
    assert sum(1 for r in first if r["ruleId"] == "AOAI401") == 2
    # the message may change between runs; the fingerprint must not
    a = f("AOAI201", Status.FAIL, resource="chat", message="one wording")
    b = f("AOAI201", Status.FAIL, resource="chat", message="another wording", severity=Severity.LOW)
    c = f("AOAI201", Status.FAIL, resource="reasoner")
    assert sarif.fingerprint(a) == sarif.fingerprint(b) != sarif.fingerprint(c)
    assert sarif.fingerprint(a) != sarif.fingerprint(f("AOAI201", Status.FAIL, READY, resource="chat"))


def test_invocation_reports_exit_code_and_checks_that_could_not_run() -> None:
    (invocation,) = _log(legacy_report())["runs"][0]["invocations"]
    assert invocation["exitCode"] == 4
    assert invocation["executionSuccessful"] is False
    assert invocation["endTimeUtc"] == "2026-11-21T09:30:05Z"
    (note,) = invocation["toolExecutionNotifications"]
    assert note["associatedRule"]["id"] == "AOAI501"
    assert note["level"] == "error"
    clean = Report([f("AOAI101", Status.FAIL)], [LEGACY])
    (invocation,) = _log(clean)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["exitCode"] == 1
    assert "toolExecutionNotifications" not in invocation


def test_run_properties_and_no_automation_details() -> None:
    run = _log(_multi_report())["runs"][0]
    assert run["properties"]["verdict"] == "incomplete"
    assert run["properties"]["targets"] == [LEGACY, READY]
    assert run["properties"]["notes"] == ["Waiver for AOAI602 expired on 2026-01-01 and no longer applies"]
    assert "automationDetails" not in run  # upload-sarif's `category` applies only when absent


def test_empty_report() -> None:
    run = _log(Report([], []))["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"][0]["exitCode"] == 0


def test_message_text_is_kept_verbatim_in_json() -> None:
    message = 'Deployment "a|b" <x> & y\nnext'
    result = _log(Report([f("AOAI201", Status.FAIL, message=message)], [LEGACY]))["runs"][0]["results"][0]
    assert result["message"]["text"] == message
