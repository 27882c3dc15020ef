from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from aoai.preflight.formats import junit
from aoai.preflight.report import FailOn, Report, Status

from ..conftest import REFERENCE
from .sample import CHECKS, LEGACY, READY, f, legacy_report
from .xsd import Schema

XSD = REFERENCE / "schemas" / "JUnit.xsd"
WHEN = datetime(2026, 11, 21, 9, 30, 5, tzinfo=UTC)


def _render(report: Report) -> str:
    return junit.render(report, checks=CHECKS, generated_at=WHEN, hostname="ci-runner")


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


@pytest.fixture(scope="module")
def schema() -> Schema:
    if not XSD.exists():
        pytest.skip("reference JUnit.xsd absent")
    return Schema(XSD)


def _escaping_report() -> Report:
    nasty = 'Deployment "a|b" <script>alert(1)</script> & co\nsecond line\x00\x1b[31m'
    return Report(
        findings=[
            f("AOAI201", Status.FAIL, resource="a|b<&>", message=nasty),
            f("AOAI501", Status.ERROR, message=nasty),
            f("AOAI403", Status.SKIP, message=nasty),
            f("AOAI401", Status.WAIVED, message=nasty, waiver={"reason": 'r <&> "q"', "expires": "2027-01-01"}),
        ],
        targets=[LEGACY],
    )


def _multi_report() -> Report:
    report = legacy_report()
    report.findings += [f("AOAI001", Status.PASS, READY), f("AOAI401", Status.PASS, READY)]
    report.targets.append(READY)
    return report


@pytest.mark.parametrize(
    "report",
    [legacy_report(), legacy_report(FailOn.WARN), _escaping_report(), _multi_report(), Report([], [])],
    ids=["legacy", "fail-on-warn", "escaping", "multi-target", "empty"],
)
def test_valid_against_the_ant_junit_schema(schema: Schema, report: Report) -> None:
    assert schema.validate(_parse(_render(report))) == []


def test_the_validator_rejects_what_the_schema_forbids(schema: Schema) -> None:
    # The structural validator must be able to fail: break the document in the ways that matter.
    document = _parse(_render(legacy_report()))
    suite = document[0]
    del suite.attrib["hostname"]
    suite.set("timestamp", "2026-11-21T09:30:05Z")  # the schema's pattern has no zone
    document.set("tests", "8")  # <testsuites> declares no attributes
    errors = schema.validate(document)
    assert any("hostname" in e for e in errors)
    assert any("timestamp" in e for e in errors)
    assert any("undeclared attribute tests" in e for e in errors)

    document = _parse(_render(legacy_report()))
    case = document[0].find("testcase")
    assert case is not None
    ET.SubElement(case, "failure", {"type": "fail"})
    ET.SubElement(case, "error", {"type": "error"})  # at most one of skipped/error/failure
    assert schema.validate(document)

    document = _parse(_render(legacy_report()))
    system_err = document[0].find("system-err")
    assert system_err is not None
    document[0].remove(system_err)
    assert schema.validate(document)


def test_lxml_accepts_it_when_installed() -> None:
    etree = pytest.importorskip("lxml.etree")
    if not XSD.exists():
        pytest.skip("reference JUnit.xsd absent")
    xml_schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert xml_schema.validate(etree.fromstring(_render(_multi_report()).encode()))


def test_one_suite_per_target_with_counts_matching_the_cases() -> None:
    document = _parse(_render(_multi_report()))
    assert document.tag == "testsuites"
    suites = document.findall("testsuite")
    assert [s.get("name") for s in suites] == [LEGACY, READY]
    assert [s.get("id") for s in suites] == ["0", "1"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None)
        assert int(suite.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None)
        assert suite.get("timestamp") == "2026-11-21T09:30:05"
        assert suite.get("hostname") == "ci-runner"
    legacy, ready = suites
    assert (legacy.get("tests"), legacy.get("failures"), legacy.get("errors"), legacy.get("skipped")) == (
        "8",
        "2",
        "1",
        "2",
    )
    assert (ready.get("tests"), ready.get("failures")) == ("2", "0")
    props = {p.get("name"): p.get("value") for p in legacy.iter("property")}
    assert props["verdict"] == "incomplete"
    assert props["target"] == LEGACY


def test_case_names_classnames_and_elements_per_status() -> None:
    suite = _parse(_render(legacy_report())).find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [
        "AOAI001 The account exists and is provisioned",
        "AOAI101 The region supports the Responses API",
        "AOAI201 Every required deployment exists [gpt-4o]",
        "AOAI205 Deployed models are not near retirement [prod-chat]",
        "AOAI401 Public network access is disabled",
        "AOAI403 Outbound network access is restricted",
        "AOAI501 Audit and request logs are collected",
        "AOAI601 Local (key) authentication is disabled",
    ]
    assert cases["AOAI201 Every required deployment exists [gpt-4o]"].get("classname") == "deployments"
    assert cases["AOAI101 The region supports the Responses API"].get("classname") == "region"
    assert list(cases["AOAI001 The account exists and is provisioned"]) == []  # pass: empty test case

    failure = cases["AOAI101 The region supports the Responses API"].find("failure")
    assert failure is not None
    assert failure.get("type") == "fail"
    assert failure.get("message") == "Account aoai-legacy is in westeurope, which has no Responses API"
    assert "Remediation: az cognitiveservices account update --fix AOAI101" in (failure.text or "")
    assert "x-ms-request-id req-0001" in (failure.text or "")

    error = cases["AOAI501 Audit and request logs are collected"].find("error")
    assert error is not None
    assert error.get("type") == "error"
    assert "403 AuthorizationFailed" in (error.get("message") or "")

    skipped = cases["AOAI403 Outbound network access is restricted"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "Outbound restriction not required by the policy"

    waived = cases["AOAI401 Public network access is disabled"].find("skipped")
    assert waived is not None
    assert waived.get("message") == "waived: migration ticket NET-42 (expires 2027-01-31)"

    # A warning does not fail the gate by default: the case passes and the warning is in system-out.
    assert list(cases["AOAI205 Deployed models are not near retirement [prod-chat]"]) == []
    system_out = suite.findtext("system-out") or ""
    assert "warning: AOAI205: Deployment 'prod-chat' runs gpt-4o" in system_out
    assert "note: Waiver for AOAI602 expired" in system_out


def test_warnings_are_failures_when_the_gate_fails_on_warn() -> None:
    suite = _parse(_render(legacy_report(FailOn.WARN))).find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "3"
    warned = [c for c in suite.findall("testcase") if c.get("name", "").startswith("AOAI205")]
    failure = warned[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "warn"


def test_escaping_of_markup_quotes_newlines_and_control_characters() -> None:
    text = _render(_escaping_report())
    assert "<script>" not in text
    assert "\x00" not in text
    assert "\x1b" not in text
    suite = _parse(text).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failure = cases[0].find("failure")
    assert failure is not None
    # attribute: one line, markup preserved as text
    assert failure.get("message") == 'Deployment "a|b" <script>alert(1)</script> & co second line[31m'
    assert cases[0].get("name") == "AOAI201 Every required deployment exists [a|b<&>]"
    # element text keeps the newline
    assert (failure.text or "").startswith('Deployment "a|b" <script>alert(1)</script> & co\nsecond line')
    by_check = {c.get("name", "")[:7]: c for c in cases}
    assert [c.get("name", "")[:7] for c in cases] == ["AOAI201", "AOAI401", "AOAI403", "AOAI501"]
    waived = by_check["AOAI401"].find("skipped")
    assert waived is not None
    assert waived.get("message") == 'waived: r <&> "q" (expires 2027-01-01)'


def test_empty_report_is_an_empty_testsuites_document() -> None:
    text = _render(Report([], []))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    document = _parse(text)
    assert document.tag == "testsuites"
    assert list(document) == []


def test_default_timestamp_is_now_in_utc_without_zone() -> None:
    suite = _parse(junit.render(legacy_report(), checks=CHECKS)).find("testsuite")
    assert suite is not None
    stamp = datetime.strptime(suite.get("timestamp", ""), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 120
    assert suite.get("hostname")


def test_unknown_check_falls_back_to_id_and_area_from_its_number() -> None:
    report = Report([f("AOAI302", Status.FAIL, message="Deployment 'x' capacity 10 < 50")], [LEGACY])
    case = _parse(_render(report)).find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "AOAI302 AOAI302"
    assert case.get("classname") == "skus"
