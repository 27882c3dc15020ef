"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning, SARIF viewers, security dashboards).

One run; ``tool.driver`` lists, as rules, only the checks that have a result. Mapping of a
finding to a SARIF ``result`` (SARIF §3.27.9 says a result whose level is not ``none`` must have
kind ``fail``):

- fail: kind ``fail``; level ``error`` (high), ``warning`` (medium), ``note`` (low)
- warn: kind ``fail``; level ``warning`` (high, medium), ``note`` (low)
- error (could not evaluate): kind ``fail``, level ``warning``, ``properties.status = "error"``,
  plus a tool execution notification and ``executionSuccessful: false`` in the invocation
- waived: as fail, plus ``suppressions: [{kind: external, status: accepted, justification}]``
- pass: kind ``pass``, level ``none``; skip: kind ``notApplicable``, level ``none`` — both only
  with ``include_passes=True``

Passes are left out by default: GitHub code scanning ignores ``kind`` and opens an alert for
every result it receives (microsoft/PSRule#955, github community discussion 65477). It closes an
alert when a later upload of the same tool and category no longer carries that result, so leaving
passes out is what closes alerts. ``error`` is not ``fail`` in the gate's terms, but it must stay
visible to whoever reads the scan, so it is a warning-level result (plus a notification in the
invocation, which is where SARIF puts "the tool could not do its job").

Every result carries a logical location (the account's ARM resource id) and, because GitHub
rejects results without one, a physical location: the policy file (``artifact_uri``, default
``aoai.toml``) at line 1. ``partialFingerprints.primaryLocationLineHash`` is a hash of
(check, target, resource), so all results pointing at the same line stay distinct alerts and an
alert keeps its identity from run to run; upload-sarif then does not compute its own line hash.
No ``automationDetails`` is written: github/codeql-action/upload-sarif only applies its
``category`` input to runs that have none, and one job per account needs distinct categories.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aoai
from aoai.preflight.formats import account_name, all_targets, area_of, blocks_gate, findings_of, waiver_text
from aoai.preflight.report import Area, Finding, Report, Severity, Status

if TYPE_CHECKING:
    from aoai.preflight.checks import CheckInfo

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DEFAULT_ARTIFACT_URI = "aoai.toml"
FINGERPRINT_KEY = "primaryLocationLineHash"

SECURITY_SEVERITY: dict[Severity, str] = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.0", Severity.LOW: "3.0"}
_FAIL_LEVEL: dict[Severity, str] = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_WARN_LEVEL: dict[Severity, str] = {Severity.HIGH: "warning", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# Areas whose checks are security controls: GitHub shows security-severity only on rules tagged "security".
_SECURITY_AREAS = frozenset({Area.ACCOUNT, Area.NETWORK, Area.DIAGNOSTICS, Area.IDENTITY})


def kind_and_level(finding: Finding) -> tuple[str, str]:
    """The SARIF (kind, level) of a finding; see the module docstring."""
    status = finding.status
    if status is Status.PASS:
        return "pass", "none"
    if status is Status.SKIP:
        return "notApplicable", "none"
    if status is Status.ERROR:
        return "fail", "warning"
    if status is Status.WARN:
        return "fail", _WARN_LEVEL[finding.severity]
    return "fail", _FAIL_LEVEL[finding.severity]  # fail, waived


def fingerprint(finding: Finding) -> str:
    """Stable per (check, target, resource): same alert across runs, distinct per deployment."""
    key = "\x1f".join((finding.check, finding.target.lower(), finding.resource or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _information_uri() -> str | None:
    """The project's home page from the installed distribution's metadata, if it declares one."""
    from importlib import metadata

    try:
        meta = metadata.metadata("aoai")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "home", "documentation", "source", "repository") and url.strip():
            return url.strip()
    for home in meta.get_all("Home-page") or []:
        if str(home).strip():
            return str(home).strip()
    return None


def _rule_name(title: str) -> str:
    """A rule name from a title: "Public network access is disabled" -> "PublicNetworkAccessIsDisabled"."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _rule(check_id: str, info: CheckInfo | None, checks: Mapping[str, CheckInfo]) -> dict[str, Any]:
    if info is None:  # a finding from a check the caller did not describe: still a valid rule
        area = area_of(check_id, checks)
        return {
            "id": check_id,
            "shortDescription": {"text": check_id},
            "properties": {"area": area.value if area else None, "tags": ["aoai", "preflight"]},
        }
    tags = ["aoai", "preflight", info.area.value]
    if info.area in _SECURITY_AREAS:
        tags.append("security")
    refs = list(info.references)
    help_text = f"{info.why}\n\nRemediation: {info.remediation}"
    help_md = f"{info.why}\n\n**Remediation**\n\n{info.remediation}"
    if refs:
        help_text += "\n\nReferences:\n" + "\n".join(f"- {url}" for url in refs)
        help_md += "\n\n**References**\n\n" + "\n".join(f"- <{url}>" for url in refs)
    rule: dict[str, Any] = {
        "id": info.id,
        "name": _rule_name(info.title),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.what},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": _FAIL_LEVEL[info.severity]},
        "properties": {
            "area": info.area.value,
            "severity": info.severity.value,
            "security-severity": SECURITY_SEVERITY[info.severity],
            "tags": tags,
            "controls": [{"kind": c.kind, "id": c.id, "name": c.name} for c in info.controls],
        },
    }
    if refs:
        rule["helpUri"] = refs[0]
    return rule


def _result(
    finding: Finding, rule_index: int, report: Report, checks: Mapping[str, CheckInfo], artifact_uri: str
) -> dict[str, Any]:
    kind, level = kind_and_level(finding)
    text = finding.message
    if finding.status is Status.ERROR and not text.lower().startswith("could not"):
        text = f"Could not evaluate: {text}"
    area = area_of(finding.check, checks)
    properties: dict[str, Any] = {
        "status": finding.status.value,
        "severity": finding.severity.value,
        "area": area.value if area else None,
        "target": finding.target,
        "resource": finding.resource,
        "blocking": blocks_gate(finding, report),
    }
    if finding.remediation:
        properties["remediation"] = finding.remediation
    if finding.source is not None:
        properties["source"] = finding.source.to_dict()
    logical = [{"name": account_name(finding.target), "fullyQualifiedName": finding.target, "kind": "resource"}]
    result: dict[str, Any] = {
        "ruleId": finding.check,
        "ruleIndex": rule_index,
        "kind": kind,
        "level": level,
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri},
                    "region": {"startLine": 1},
                },
                "logicalLocations": logical,
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": properties,
    }
    if finding.status is Status.WAIVED:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        justification = waiver_text(finding)
        if justification:
            suppression["justification"] = justification
        if finding.waiver:
            suppression["properties"] = {k: v for k, v in finding.waiver.items() if isinstance(v, str | int | float)}
        result["suppressions"] = [suppression]
    return result


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(
    report: Report,
    *,
    checks: Mapping[str, CheckInfo],
    generated_at: datetime | None = None,
    include_passes: bool = False,
    artifact_uri: str = DEFAULT_ARTIFACT_URI,
) -> dict[str, Any]:
    """The SARIF log as a dict (see the module docstring for the mapping)."""
    wanted = {Status.FAIL, Status.WARN, Status.ERROR, Status.WAIVED}
    if include_passes:
        wanted |= {Status.PASS, Status.SKIP}
    ordered = [f for target in all_targets(report) for f in findings_of(report, target)]
    selected = [f for f in ordered if f.status in wanted]
    rule_ids = sorted({f.check for f in selected})
    rules = [_rule(check_id, checks.get(check_id), checks) for check_id in rule_ids]
    index = {check_id: i for i, check_id in enumerate(rule_ids)}
    results = [_result(f, index[f.check], report, checks, artifact_uri) for f in selected]
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{f.check} could not be evaluated for {account_name(f.target)}: {f.message}"},
            "associatedRule": {"id": f.check, "index": index[f.check]},
        }
        for f in ordered
        if f.status is Status.ERROR
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": not notifications,
        "exitCode": int(report.exit_code),
        "endTimeUtc": _timestamp(generated_at or datetime.now(UTC)),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver: dict[str, Any] = {
        "name": "aoai",
        "fullName": "aoai preflight",
        "version": aoai.__version__,
        "semanticVersion": aoai.__version__,
        "rules": rules,
    }
    uri = _information_uri()
    if uri:
        driver["informationUri"] = uri
    counts = report.counts()
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                "results": results,
                "properties": {
                    "verdict": report.verdict.value,
                    "failOn": report.fail_on.value,
                    "targets": all_targets(report),
                    "counts": counts,
                    "notes": list(report.notes),
                },
            }
        ],
    }


def render(
    report: Report,
    *,
    checks: Mapping[str, CheckInfo],
    generated_at: datetime | None = None,
    include_passes: bool = False,
    artifact_uri: str = DEFAULT_ARTIFACT_URI,
) -> str:
    document = build(
        report, checks=checks, generated_at=generated_at, include_passes=include_passes, artifact_uri=artifact_uri
    )
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
