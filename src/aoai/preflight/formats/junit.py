"""JUnit XML for CI test tabs (Azure DevOps PublishTestResults@2 ``JUnit``, GitLab ``reports:junit``).

The document follows the Apache Ant JUnit schema (the one Azure DevOps documents for its JUnit
format), so the strictest readers accept it: a ``<testsuites>`` root without attributes; per
target one ``<testsuite>`` with ``name`` (the account's resource id), ``package``, ``id``,
``hostname``, ``timestamp`` (UTC, no zone, as the schema's pattern demands), ``tests``,
``failures``, ``errors``, ``skipped``, ``time``; then ``<properties>``, the test cases,
``<system-out>`` and ``<system-err>`` (all three required by the schema).

One ``<testcase>`` per finding: ``classname`` is the check's area, ``name`` is
"AOAI201 <title>" plus " [<resource>]" when the finding is about a sub-resource (a deployment).

=========  ===============================================================
status     test case content
=========  ===============================================================
pass       nothing (passed)
fail       ``<failure message=… type="fail">``, details in the text
warn       ``<failure type="warn">`` when the gate fails on warnings (``fail_on=warn``);
           otherwise passed, the warning listed in the suite's system-out
error      ``<error message=… type="error">`` (the check could not run)
skip       ``<skipped message=…>``
waived     ``<skipped message="waived: <reason> (expires …)">``
=========  ===============================================================

Names and messages pass through ElementTree (which escapes ``<``, ``&``, quotes and, in
attributes, newlines); characters XML 1.0 cannot carry at all are dropped first.
"""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aoai
from aoai.preflight.formats import all_targets, area_of, blocks_gate, findings_of, title_of, waiver_text
from aoai.preflight.report import Finding, Report, Status

if TYPE_CHECKING:
    from aoai.preflight.checks import CheckInfo

PACKAGE = "aoai.preflight"
# XML 1.0 Char production: tab, LF, CR and everything from U+0020 up, minus surrogates and U+FFFE/F.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML_CHAR.sub("", text)


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def case_name(finding: Finding, checks: Mapping[str, CheckInfo]) -> str:
    name = f"{finding.check} {title_of(finding.check, checks)}"
    if finding.resource:
        name += f" [{finding.resource}]"
    return _one_line(name)


def _details(finding: Finding) -> str:
    lines = [finding.message]
    if finding.resource:
        lines.append(f"Resource: {finding.resource}")
    if finding.observed is not None:
        lines.append(f"Observed: {_json(finding.observed)}")
    if finding.expected is not None:
        lines.append(f"Expected: {_json(finding.expected)}")
    if finding.remediation:
        lines.append(f"Remediation: {finding.remediation}")
    if finding.source is not None:
        source = finding.source
        parts = [source.operation]
        if source.api_version:
            parts.append(f"api-version {source.api_version}")
        if source.request_id:
            parts.append(f"x-ms-request-id {source.request_id}")
        lines.append("Source: " + ", ".join(parts))
    lines.append(f"Target: {finding.target}")
    return _clean("\n".join(lines))


def _testcase(parent: ET.Element, finding: Finding, report: Report, checks: Mapping[str, CheckInfo]) -> None:
    area = area_of(finding.check, checks)
    case = ET.SubElement(
        parent,
        "testcase",
        {"name": case_name(finding, checks), "classname": area.value if area else "other", "time": "0"},
    )
    status = finding.status
    if _is_failure(finding, report):
        failure = ET.SubElement(case, "failure", {"message": _one_line(finding.message), "type": finding.status.value})
        failure.text = _details(finding)
    elif status is Status.ERROR:
        error = ET.SubElement(case, "error", {"message": _one_line(finding.message), "type": "error"})
        error.text = _details(finding)
    elif status is Status.SKIP:
        ET.SubElement(case, "skipped", {"message": _one_line(finding.message)})
    elif status is Status.WAIVED:
        skipped = ET.SubElement(case, "skipped", {"message": _one_line(f"waived: {waiver_text(finding) or ''}")})
        skipped.text = _details(finding)


def _is_failure(finding: Finding, report: Report) -> bool:
    """A <failure>: fail, and warn when the gate fails on warnings (error is an <error>)."""
    return finding.status is not Status.ERROR and blocks_gate(finding, report)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _hostname() -> str:
    try:
        return _one_line(socket.gethostname()) or "localhost"
    except OSError:
        return "localhost"


def render(
    report: Report,
    *,
    checks: Mapping[str, CheckInfo],
    generated_at: datetime | None = None,
    duration: float | None = None,
    hostname: str | None = None,
) -> str:
    """The JUnit XML document. ``duration`` (seconds) goes on each suite: the checks of one run are
    evaluated together, so there is no meaningful per-check time (test cases say 0)."""
    timestamp = _timestamp(generated_at or datetime.now(UTC))
    host = hostname or _hostname()
    root = ET.Element("testsuites")
    for index, target in enumerate(all_targets(report)):
        findings = findings_of(report, target)
        verdict = report.verdict_for(findings)
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": _one_line(target) or "unknown",
                "package": PACKAGE,
                "id": str(index),
                "hostname": host,
                "timestamp": timestamp,
                "tests": str(len(findings)),
                "failures": str(sum(1 for f in findings if _is_failure(f, report))),
                "errors": str(sum(1 for f in findings if f.status is Status.ERROR)),
                "skipped": str(sum(1 for f in findings if f.status in (Status.SKIP, Status.WAIVED))),
                "time": f"{duration or 0:.3f}",
            },
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("aoai.version", aoai.__version__),
            ("target", target),
            ("verdict", verdict.value),
            ("fail_on", report.fail_on.value),
        ):
            ET.SubElement(properties, "property", {"name": name, "value": _clean(value)})
        for finding in findings:
            _testcase(suite, finding, report, checks)
        out_lines = [f"verdict: {verdict.value}"]
        out_lines += [
            f"warning: {f.check}: {_one_line(f.message)}"
            for f in findings
            if f.status is Status.WARN and not _is_failure(f, report)
        ]
        out_lines += [f"note: {_one_line(note)}" for note in report.notes]
        ET.SubElement(suite, "system-out").text = "\n".join(out_lines) + "\n"
        ET.SubElement(suite, "system-err").text = ""
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
