"""Findings and reports: plain data, no rendering, no I/O.

A failing check is data (a Finding with status ``fail``), never an exception. A check that
could not be evaluated is ``error`` — never ``pass`` — and makes the verdict ``incomplete``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aoai.errors import ExitCode


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # could not evaluate
    SKIP = "skip"  # not applicable or deselected
    WAIVED = "waived"


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Area(StrEnum):
    ACCOUNT = "account"
    REGION = "region"
    DEPLOYMENTS = "deployments"
    SKUS = "skus"
    NETWORK = "network"
    DIAGNOSTICS = "diagnostics"
    IDENTITY = "identity"
    PROBE = "probe"


class Verdict(StrEnum):
    READY = "ready"
    NOT_READY = "not-ready"
    INCOMPLETE = "incomplete"

    @property
    def exit_code(self) -> ExitCode:
        return {
            Verdict.READY: ExitCode.OK,
            Verdict.NOT_READY: ExitCode.NOT_READY,
            Verdict.INCOMPLETE: ExitCode.INCOMPLETE,
        }[self]


class FailOn(StrEnum):
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Source:
    """Where an observed fact came from: the ARM operation, its api-version and request id."""

    operation: str
    api_version: str | None = None
    request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "api_version": self.api_version, "request_id": self.request_id}


@dataclass
class Finding:
    check: str  # AOAI###
    status: Status
    severity: Severity
    target: str  # the account's ARM resource id
    message: str  # names the resource and the reason, e.g. "Deployment 'chat' runs gpt-4o 2024-05-13, …"
    resource: str | None = None  # sub-resource the finding is about (a deployment name), if any
    observed: Any = None
    expected: Any = None
    remediation: str | None = None
    source: Source | None = None
    waiver: dict[str, Any] | None = None  # the waiver that applied (check, deployment, reason, expires)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status.value,
            "severity": self.severity.value,
            "target": self.target,
            "resource": self.resource,
            "message": self.message,
            "observed": self.observed,
            "expected": self.expected,
            "remediation": self.remediation,
            "source": self.source.to_dict() if self.source else None,
            "waiver": self.waiver,
        }


@dataclass
class Report:
    """Every finding of one run (one or many targets), with the gate threshold."""

    findings: list[Finding]
    targets: list[str]
    fail_on: FailOn = FailOn.FAIL
    notes: list[str] = field(default_factory=list)  # e.g. expired waivers, catalog overrides

    def counts(self) -> dict[str, int]:
        counter = Counter(f.status.value for f in self.findings)
        return {status.value: counter.get(status.value, 0) for status in Status}

    def verdict_for(self, findings: list[Finding]) -> Verdict:
        statuses = {f.status for f in findings}
        if Status.ERROR in statuses:
            return Verdict.INCOMPLETE
        if Status.FAIL in statuses or (self.fail_on is FailOn.WARN and Status.WARN in statuses):
            return Verdict.NOT_READY
        return Verdict.READY

    @property
    def verdict(self) -> Verdict:
        return self.verdict_for(self.findings)

    def verdict_by_target(self) -> dict[str, Verdict]:
        return {t: self.verdict_for([f for f in self.findings if f.target == t]) for t in self.targets}

    @property
    def exit_code(self) -> ExitCode:
        return self.verdict.exit_code
