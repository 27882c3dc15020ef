"""How a check is evaluated on a planned end state (a snapshot with a ``plan`` part).

The engine calls :func:`evaluate_planned` for such snapshots (``preflight plan`` and ``verify``
alike, so a plan's evidence re-evaluates the same way). It adds three rules to the engine's own,
each turning what cannot be decided into ``skip`` with the reason — never ``pass``:

1. a part deliberately not read (``--offline``) -> the checks that need it skip;
2. a value the plan knows only after apply (Terraform ``after_unknown``, an unresolved What-If
   expression, a model version left to the service default) -> the checks that read it skip:
   for the account's fields the whole check, for a deployment's fields that deployment's findings;
3. a part only partly known (``--offline`` on an account that exists: the plan's deployments
   without ARM's) -> a ``fail``/``warn`` that is not about a planned resource skips, since ARM
   may hold what the plan does not show.

``READS`` says which ARM fields each check reads; a test keeps it in step with the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aoai.preflight.checks import CheckInfo
from aoai.preflight.plan.model import NOT_READ, PLAN_PART, WHOLE_BODY, overlaps
from aoai.preflight.policy import Policy
from aoai.preflight.report import Finding, Status
from aoai.preflight.snapshot import AccountSnapshot

ACCOUNT = "account"
DEPLOYMENT = "deployment"
PRIVATE_ENDPOINTS = "private_endpoints"
DIAGNOSTIC_SETTINGS = "diagnostic_settings"

# check id -> {resource kind: ARM paths it reads}. An empty tuple: any unknown value of that kind.
READS: dict[str, dict[str, tuple[str, ...]]] = {
    "AOAI001": {ACCOUNT: ("kind", "properties.provisioningState")},
    "AOAI002": {ACCOUNT: ("properties.customSubDomainName",)},
    "AOAI101": {ACCOUNT: ("location",)},
    "AOAI201": {DEPLOYMENT: ("name",)},
    "AOAI202": {DEPLOYMENT: ("properties.model.name", "properties.model.version", "sku.name")},
    "AOAI203": {DEPLOYMENT: ("properties.provisioningState",)},
    "AOAI204": {DEPLOYMENT: ("properties.model.name", "properties.model.version")},
    "AOAI205": {DEPLOYMENT: ("properties.model.name", "properties.model.version", "properties.model.format")},
    "AOAI206": {DEPLOYMENT: ("properties.model", "properties.versionUpgradeOption")},
    "AOAI207": {DEPLOYMENT: ("properties.raiPolicyName",)},
    "AOAI208": {DEPLOYMENT: ("properties.raiPolicyName",)},
    "AOAI209": {DEPLOYMENT: ("name", "properties.model.name")},
    "AOAI301": {DEPLOYMENT: ("properties.model", "sku.name")},
    "AOAI302": {DEPLOYMENT: ("sku.capacity",)},
    "AOAI303": {DEPLOYMENT: ("properties.model.name", "sku.name", "sku.capacity")},
    "AOAI304": {DEPLOYMENT: ("properties.model", "sku.name", "sku.capacity")},
    "AOAI401": {ACCOUNT: ("properties.publicNetworkAccess", "properties.networkAcls")},
    "AOAI402": {PRIVATE_ENDPOINTS: ()},
    "AOAI403": {ACCOUNT: ("properties.restrictOutboundNetworkAccess",)},
    "AOAI501": {DIAGNOSTIC_SETTINGS: ()},
    "AOAI502": {DIAGNOSTIC_SETTINGS: ()},
    "AOAI601": {ACCOUNT: ("properties.disableLocalAuth",)},
    "AOAI602": {ACCOUNT: ("identity",)},
    "AOAI603": {ACCOUNT: ("properties.encryption",)},
    "AOAI701": {},  # the live probe: never part of a plan
}

UNKNOWN = "Unknown until apply"


def _skip(info: CheckInfo, snapshot: AccountSnapshot, message: str, resource: str | None = None) -> Finding:
    return Finding(info.id, Status.SKIP, info.severity, snapshot.resource_id, message, resource=resource)


def _unknown_reads(unknown: list[str], reads: tuple[str, ...]) -> list[str]:
    if not reads:
        return list(unknown)
    return sorted({u for u in unknown for r in reads if overlaps(u, r)})


def _describe(paths: list[str]) -> str:
    return "the whole resource" if WHOLE_BODY in paths else ", ".join(paths)


def evaluate_planned(
    info: CheckInfo,
    snapshot: AccountSnapshot,
    policy: Policy,
    evaluate_check: Callable[[CheckInfo, AccountSnapshot, Policy], list[Finding]],
) -> list[Finding]:
    plan_part = snapshot.part(PLAN_PART)
    plan: dict[str, Any] = plan_part.data if plan_part is not None and isinstance(plan_part.data, dict) else {}
    unknown: dict[str, Any] = plan.get("unknown") or {}

    not_read = sorted(
        name
        for name in info.parts
        if (part := snapshot.part(name)) is not None and part.error is not None and part.error.code == NOT_READ
    )
    if not_read:
        error = snapshot.parts[not_read[0]].error
        reason = error.message if error is not None else "not read"
        return [_skip(info, snapshot, f"Needs {', '.join(not_read)} from ARM ({reason})")]

    reads = READS.get(info.id, {})
    account = plan.get("account") or {}
    if ACCOUNT in reads and account.get("action") == "delete":
        return [_skip(info, snapshot, f"The plan deletes account {snapshot.target.account}")]
    if ACCOUNT in reads and account.get("read") is False:
        return [_skip(info, snapshot, f"Needs the account from ARM ({account.get('reason') or 'not read'})")]
    for kind in (ACCOUNT, PRIVATE_ENDPOINTS, DIAGNOSTIC_SETTINGS):
        if kind in reads:
            paths = _unknown_reads(list(unknown.get(kind) or []), reads[kind])
            if paths:
                return [_skip(info, snapshot, f"{UNKNOWN}: {_describe(paths)}")]

    findings = evaluate_check(info, snapshot, policy)

    result: list[Finding] = []
    # Rule 1 for parts a check needs only sometimes (it calls need() itself).
    for finding in findings:
        part_name = (
            finding.observed.get("part")
            if finding.status is Status.ERROR and isinstance(finding.observed, dict)
            else None
        )
        part = snapshot.part(str(part_name)) if part_name else None
        if part is not None and part.error is not None and part.error.code == NOT_READ:
            result.append(_skip(info, snapshot, f"Needs {part_name} from ARM ({part.error.message})", finding.resource))
        else:
            result.append(finding)

    # Rule 2, per deployment.
    per_deployment: dict[str, list[str]] = unknown.get("deployments") or {}
    if DEPLOYMENT in reads:
        blocked = {
            name: found
            for name, paths in per_deployment.items()
            if (found := _unknown_reads(list(paths), reads[DEPLOYMENT]))
        }
        seen: set[str] = set()
        replaced: list[Finding] = []
        for finding in result:
            if finding.resource in blocked:
                if finding.resource not in seen:
                    seen.add(finding.resource)
                    replaced.append(
                        _skip(
                            info,
                            snapshot,
                            f"Deployment '{finding.resource}': {UNKNOWN.lower()}: "
                            f"{_describe(blocked[finding.resource])}",
                            finding.resource,
                        )
                    )
                continue
            replaced.append(finding)
        result = replaced

    # Rule 3.
    partial = set(plan.get("partial") or [])
    if partial & set(info.parts):
        planned = set((plan.get("deployments") or {}).keys())
        result = [
            _skip(
                info,
                snapshot,
                f"Not decided by the plan alone: ARM's {', '.join(sorted(partial & set(info.parts)))} not read "
                f"(--offline) — was: {f.message}",
                f.resource,
            )
            if f.status in (Status.FAIL, Status.WARN) and f.resource not in planned
            else f
            for f in result
        ]
    return result
