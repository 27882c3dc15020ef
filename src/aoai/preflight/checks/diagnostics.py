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


def _category_groups(snapshot: AccountSnapshot) -> tuple[dict[str, set[str]] | None, str | None]:
    """Which log categories each category group holds (group lower-cased -> category names), as ARM
    lists them for the account (DiagnosticSettingsCategory_List); (None, why) when that read failed."""
    part = snapshot.part("diagnostic_categories")
    if part is None or not part.ok:
        return None, part.error.describe() if part is not None and part.error else "not collected"
    groups: dict[str, set[str]] = {}
    for category in part.data if isinstance(part.data, list) else []:
        if not isinstance(category, dict) or props(category).get("categoryType") not in (None, "Logs"):
            continue
        for group in props(category).get("categoryGroups") or []:
            if isinstance(group, str) and isinstance(category.get("name"), str):
                groups.setdefault(group.lower(), set()).add(category["name"])
    return groups, None


@check(
    "AOAI501",
    title="Audit and request/response logs are sent to a destination",
    area=Area.DIAGNOSTICS,
    severity=Severity.MEDIUM,
    parts=("account", "diagnostic_settings"),
    uses=("diagnostic_categories",),
    what="Lists the account's diagnostic settings (DiagnosticSettings_List) and checks that the enabled logs "
    "of settings with a destination (Log Analytics workspace, storage account, event hub or partner) cover the "
    "`Audit` and `RequestResponse` categories — by name, or through a category group. Which categories a group "
    "holds is read from ARM in the same gather (DiagnosticSettingsCategory_List on the account: each category "
    "with its `categoryGroups`); Azure's `audit` group holds `Audit` only, so it does not cover "
    "`RequestResponse`. When that read fails, only named categories and `allLogs` (every log category, by "
    "definition) are credited, and the message says so.",
    why="Without resource logs there is no record of who called the account, with which key or identity, "
    "and what the service answered: incidents cannot be investigated and auditors ask for exactly this.",
    pass_fail="Pass: both categories covered by enabled logs going to a destination. Fail: no such setting, "
    "or a category missing (for example a landing-zone policy's `audit`-only setting).",
    remediation=_REMEDIATION,
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/monitor-openai",
        f"{LEARN}/azure-monitor/essentials/diagnostic-settings",
        f"{LEARN}/azure-monitor/reference/supported-logs/microsoft-cognitiveservices-accounts-logs",
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
    groups, groups_error = _category_groups(snapshot)
    covered: set[str] = set()
    via: list[str] = []
    uncredited: list[str] = []
    for setting in settings:
        for log in props(setting).get("logs") or []:
            if not isinstance(log, dict) or log.get("enabled") is not True:
                continue
            group, category = log.get("categoryGroup"), log.get("category")
            if isinstance(group, str) and group:
                if groups is not None and group.lower() in groups:
                    members = groups[group.lower()] & set(_REQUIRED_LOGS)
                elif group.lower() == "alllogs":
                    members = set(_REQUIRED_LOGS)  # every log category, whatever ARM lists
                else:
                    members = set()
                    uncredited.append(f"{setting.get('name')}: categoryGroup {group}")
                covered |= members
                held = ", ".join(sorted(members)) or "neither"
                via.append(f"{setting.get('name')}: categoryGroup {group} ({held})")
            elif isinstance(category, str) and category in _REQUIRED_LOGS:
                covered.add(category)
                via.append(f"{setting.get('name')}: category {category}")
    observed: dict[str, Any] = {
        "settings": all_names,
        "with_destination": {str(s.get("name")): _destinations(s) for s in settings},
        "covered": sorted(covered),
        "category_groups": {g: sorted(c) for g, c in sorted(groups.items())} if groups is not None else None,
    }
    caveat = ""
    if groups is None:
        observed["category_groups_unavailable"] = groups_error
        caveat = (
            f"; category groups unknown (DiagnosticSettingsCategory_List: {groups_error}), so only named categories "
            "and allLogs were credited"
            + (f", not {'; '.join(uncredited)}" if uncredited else "")
        )
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
        if via:
            text += f" (enabled: {'; '.join(via)})"
    return [
        finding(
            "AOAI501",
            snapshot,
            Status.FAIL,
            text + caveat,
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
