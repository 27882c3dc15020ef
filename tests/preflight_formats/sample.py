"""Fake check metadata and reports for the format tests (no dependency on the real checks)."""

from __future__ import annotations

from aoai.preflight.checks import CheckInfo, Control
from aoai.preflight.report import Area, FailOn, Finding, Report, Severity, Source, Status

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-aoai-demo"
READY = f"{SUB}/providers/Microsoft.CognitiveServices/accounts/aoai-ready"
LEGACY = f"{SUB}/providers/Microsoft.CognitiveServices/accounts/aoai-legacy"


def _no_op(snapshot: object, policy: object) -> list[Finding]:
    return []


def _info(
    id: str,
    title: str,
    area: Area,
    severity: Severity,
    *,
    refs: tuple[str, ...] = (),
    controls: tuple[Control, ...] = (),
) -> CheckInfo:
    return CheckInfo(
        id=id,
        title=title,
        area=area,
        severity=severity,
        parts=frozenset({"account"}),
        what=f"What {id} checks.",
        why=f"Why {id} matters.",
        pass_fail=f"{id} passes when all is well.",
        remediation=f"az cognitiveservices account update --fix {id}",
        references=refs,
        controls=controls,
        fn=_no_op,
    )


CHECKS: dict[str, CheckInfo] = {
    c.id: c
    for c in (
        _info("AOAI001", "The account exists and is provisioned", Area.ACCOUNT, Severity.HIGH),
        _info(
            "AOAI101",
            "The region supports the Responses API",
            Area.REGION,
            Severity.HIGH,
            refs=("https://learn.microsoft.com/azure/ai-foundry/openai/how-to/responses",),
        ),
        _info("AOAI201", "Every required deployment exists", Area.DEPLOYMENTS, Severity.HIGH),
        _info("AOAI205", "Deployed models are not near retirement", Area.DEPLOYMENTS, Severity.MEDIUM),
        _info(
            "AOAI401",
            "Public network access is disabled",
            Area.NETWORK,
            Severity.HIGH,
            refs=("https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks",),
            controls=(
                Control("azure-policy", "0725b4dd-7e76-479c-a735-68e7ee23d5ca", "Public network access disabled"),
                Control("psrule", "Azure.Cognitive.PublicAccess"),
            ),
        ),
        _info("AOAI403", "Outbound network access is restricted", Area.NETWORK, Severity.LOW),
        _info("AOAI501", "Audit and request logs are collected", Area.DIAGNOSTICS, Severity.MEDIUM),
        _info("AOAI601", "Local (key) authentication is disabled", Area.IDENTITY, Severity.HIGH),
    )
}

SRC = Source("Accounts_Get", "2025-06-01", "req-0001")


def f(
    check: str,
    status: Status,
    target: str = LEGACY,
    *,
    resource: str | None = None,
    message: str = "",
    severity: Severity | None = None,
    waiver: dict[str, object] | None = None,
) -> Finding:
    info = CHECKS.get(check)
    sev = severity or (info.severity if info else Severity.MEDIUM)
    return Finding(
        check=check,
        status=status,
        severity=sev,
        target=target,
        message=message or f"{check} {status.value} on {target.rsplit('/', 1)[-1]}",
        resource=resource,
        observed={"value": 1},
        expected={"value": 2},
        remediation=info.remediation if info else None,
        source=SRC,
        waiver=waiver,
    )


def legacy_report(fail_on: FailOn = FailOn.FAIL) -> Report:
    """One target, every status."""
    return Report(
        findings=[
            f("AOAI001", Status.PASS, message="Account aoai-legacy exists and is Succeeded"),
            f("AOAI101", Status.FAIL, message="Account aoai-legacy is in westeurope, which has no Responses API"),
            f(
                "AOAI201",
                Status.FAIL,
                resource="gpt-4o",
                message="Deployment 'gpt-4o' does not exist: model name used instead of deployment name "
                "(deployments running gpt-4o: prod-chat)",
            ),
            f(
                "AOAI205",
                Status.WARN,
                resource="prod-chat",
                message="Deployment 'prod-chat' runs gpt-4o 2024-05-13, deprecated for inference in 40 days",
            ),
            f(
                "AOAI401",
                Status.WAIVED,
                message="Account aoai-legacy allows public network access",
                waiver={"check": "AOAI401", "reason": "migration ticket NET-42", "expires": "2027-01-31"},
            ),
            f("AOAI403", Status.SKIP, message="Outbound restriction not required by the policy"),
            f(
                "AOAI501",
                Status.ERROR,
                message="Diagnostic settings of aoai-legacy could not be read: 403 AuthorizationFailed (req-77)",
            ),
            f("AOAI601", Status.PASS, message="Account aoai-legacy has local auth disabled"),
        ],
        targets=[LEGACY],
        fail_on=fail_on,
        notes=["Waiver for AOAI602 expired on 2026-01-01 and no longer applies"],
    )
