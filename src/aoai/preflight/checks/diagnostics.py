"""Diagnostics checks (AOAI5xx): resource logs (Audit, RequestResponse) and metrics go to a destination."""

from __future__ import annotations

from typing import Any

from aoai.preflight.checks import Control, check
from aoai.preflight.checks.common import LEARN, account_label, finding, items, props
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot

_DESTINATIONS = ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")
_REQUIRED_LOGS = ("Audit", "RequestResponse")
_COVERING_GROUPS = ("allLogs", "audit")

_REMEDIATION = (
    "`az monitor diagnostic-settings create --name to-law --resource <resource-id> --workspace WORKSPACE_RESOURCE_ID "
    '--logs \'[{"categoryGroup":"allLogs","enabled":true}]\' --metrics \'[{"category":"AllMetrics","enabled":true}]\'`'
)


def _with_destination(snapshot: AccountSnapshot) -> list[dict[str, Any]]:
    result = []
    for setting in items(snapshot, "diagnostic_settings"):
        properties = props(setting)
        if any(isinstance(properties.get(key), str) and properties[key].strip() for key in _DESTINATIONS):
            result.append(setting)
    return result


def _destinations(setting: dict[str, Any]) -> list[str]:
    properties = props(setting)
    return [key for key in _DESTINATIONS if isinstance(properties.get(key), str) and properties[key].strip()]


@check(
    "AOAI501",
    title="Audit and request/response logs are sent to a destination",
    area=Area.DIAGNOSTICS,
    severity=Severity.MEDIUM,
    parts=("account", "diagnostic_settings"),
    what="Lists the account's diagnostic settings (DiagnosticSettings_List) and checks that the enabled logs "
    "of settings with a destination (Log Analytics workspace, storage account, event hub or partner) cover the "
    "`Audit` and `RequestResponse` categories — directly, or through category group `allLogs` or `audit`.",
    why="Without resource logs there is no record of who called the account, with which key or identity, "
    "and what the service answered: incidents cannot be investigated and auditors ask for exactly this.",
    pass_fail="Pass: both categories covered by enabled logs going to a destination. Fail: no such setting, "
    "or a category missing.",
    remediation=_REMEDIATION,
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/monitor-openai",
        f"{LEARN}/azure-monitor/essentials/diagnostic-settings",
    ),
    controls=(
        Control(
            "azure-policy",
            "1b4d1c4e-934c-4703-944c-27c82c06bebb",
            "Diagnostic logs in Azure AI services resources should be enabled",
        ),
    ),
)
def resource_logs(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    settings = _with_destination(snapshot)
    label = account_label(snapshot)
    all_names = [str(s.get("name")) for s in items(snapshot, "diagnostic_settings")]
    covered: set[str] = set()
    via: list[str] = []
    for setting in settings:
        for log in props(setting).get("logs") or []:
            if not isinstance(log, dict) or log.get("enabled") is not True:
                continue
            group, category = log.get("categoryGroup"), log.get("category")
            if isinstance(group, str) and group.lower() in {g.lower() for g in _COVERING_GROUPS}:
                covered.update(_REQUIRED_LOGS)
                via.append(f"{setting.get('name')}: categoryGroup {group}")
            elif isinstance(category, str) and category in _REQUIRED_LOGS:
                covered.add(category)
                via.append(f"{setting.get('name')}: category {category}")
    observed = {
        "settings": all_names,
        "with_destination": {str(s.get("name")): _destinations(s) for s in settings},
        "covered": sorted(covered),
    }
    missing = [c for c in _REQUIRED_LOGS if c not in covered]
    if not missing:
        return [
            finding(
                "AOAI501",
                snapshot,
                Status.PASS,
                f"{label} sends Audit and RequestResponse logs ({'; '.join(via)})",
                part="diagnostic_settings",
                observed=observed,
                expected=list(_REQUIRED_LOGS),
            )
        ]
    if not all_names:
        text = f"{label} has no diagnostic settings: no resource logs are kept"
    elif not settings:
        text = f"{label} has diagnostic settings ({', '.join(all_names)}) but none sends to a destination"
    else:
        text = f"{label} does not send {' or '.join(missing)} logs to a destination"
    return [
        finding(
            "AOAI501",
            snapshot,
            Status.FAIL,
            text,
            part="diagnostic_settings",
            observed=observed,
            expected=list(_REQUIRED_LOGS),
        )
    ]


@check(
    "AOAI502",
    title="AllMetrics are sent to a destination",
    area=Area.DIAGNOSTICS,
    severity=Severity.LOW,
    parts=("account", "diagnostic_settings"),
    what="Checks that a diagnostic setting with a destination has the `AllMetrics` metric category enabled.",
    why="Platform metrics (tokens, latency, throttled requests, provisioned utilisation) kept beyond the 93-day "
    "platform retention and next to the logs make capacity planning and incident reviews possible.",
    pass_fail="Pass: `AllMetrics` enabled in a setting with a destination. Fail: not.",
    remediation=_REMEDIATION,
    references=(f"{LEARN}/ai-foundry/openai/how-to/monitor-openai",),
)
def metrics(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    label = account_label(snapshot)
    with_metrics = [
        str(setting.get("name"))
        for setting in _with_destination(snapshot)
        if any(
            isinstance(m, dict) and m.get("category") == "AllMetrics" and m.get("enabled") is True
            for m in props(setting).get("metrics") or []
        )
    ]
    if with_metrics:
        return [
            finding(
                "AOAI502",
                snapshot,
                Status.PASS,
                f"{label} sends AllMetrics ({', '.join(with_metrics)})",
                part="diagnostic_settings",
                observed=with_metrics,
                expected="AllMetrics enabled",
            )
        ]
    return [
        finding(
            "AOAI502",
            snapshot,
            Status.FAIL,
            f"{label} does not send AllMetrics to a destination",
            part="diagnostic_settings",
            observed=[],
            expected="AllMetrics enabled",
        )
    ]
