"""Each check over snapshot fixtures: pass (ready account), warn/fail (legacy account or one fact
changed), and error (a part ARM refused). The checks are pure: no emulator, no network."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from aoai.preflight.checks import all_checks
from aoai.preflight.checks.common import PartUnavailable
from aoai.preflight.policy import Policy, RequiredDeployment
from aoai.preflight.report import Status

from .snapshots import (
    LEGACY_POLICY,
    READY_POLICY,
    account_props,
    by_resource,
    changed,
    deployment,
    failed,
    legacy,
    ready,
    run,
    statuses,
)

ARM_CHECKS = sorted(cid for cid, info in all_checks().items() if cid != "AOAI701")


@pytest.mark.parametrize("check_id", ARM_CHECKS)
def test_ready_account_passes_every_check(check_id: str) -> None:
    findings = run(check_id, ready(), READY_POLICY)
    assert findings
    assert {f.status for f in findings} <= {Status.PASS, Status.SKIP}, [f.message for f in findings]
    if check_id not in ("AOAI302", "AOAI603", "AOAI209", "AOAI304"):  # a policy setting / a planned change
        assert Status.PASS in {f.status for f in findings}


EXPECTED_LEGACY = {
    "AOAI001": [Status.PASS],
    "AOAI002": [Status.FAIL],
    "AOAI101": [Status.FAIL],
    "AOAI201": [Status.FAIL],
    "AOAI202": [Status.SKIP],
    "AOAI203": [Status.PASS],
    "AOAI204": [Status.SKIP],
    "AOAI205": [Status.WARN],
    "AOAI206": [Status.WARN],
    "AOAI207": [Status.PASS],  # a policy is attached (legacy-relaxed) ...
    "AOAI208": [Status.FAIL],  # ... with jailbreak detection off
    "AOAI301": [Status.PASS],
    "AOAI302": [Status.SKIP],
    "AOAI303": [Status.FAIL],
    "AOAI401": [Status.FAIL],
    "AOAI402": [Status.FAIL],
    "AOAI403": [Status.WARN],
    "AOAI501": [Status.FAIL],
    "AOAI502": [Status.FAIL],
    "AOAI601": [Status.FAIL],
    "AOAI602": [Status.FAIL],
    "AOAI603": [Status.SKIP],
}


@pytest.mark.parametrize(("check_id", "expected"), sorted(EXPECTED_LEGACY.items()))
def test_legacy_account(check_id: str, expected: list[Status]) -> None:
    assert statuses(run(check_id, legacy(), LEGACY_POLICY)) == expected


@pytest.mark.parametrize("check_id", ARM_CHECKS)
def test_a_refused_part_turns_the_check_to_error_never_pass(check_id: str) -> None:
    info = all_checks()[check_id]
    for part in sorted(info.parts):
        findings = run(check_id, failed(ready(), part), READY_POLICY)
        assert statuses(findings) == [Status.ERROR], (part, findings)
        assert f"rid-{part}" in findings[0].message
        assert findings[0].source is not None and findings[0].source.request_id == f"rid-{part}"


@pytest.mark.parametrize("check_id", ARM_CHECKS)
def test_a_part_never_collected_is_an_error(check_id: str) -> None:
    snapshot = ready()
    for part in all_checks()[check_id].parts:
        del snapshot.parts[part]
    findings = run(check_id, snapshot, READY_POLICY)
    assert statuses(findings) == [Status.ERROR]
    assert "not collected" in findings[0].message


def test_every_finding_names_the_account_and_its_source() -> None:
    for check_id in ARM_CHECKS:
        for finding in run(check_id, legacy(), LEGACY_POLICY):
            assert finding.target.endswith("/accounts/aoai-legacy")
            assert finding.message and "FAIL" not in finding.message
            if finding.status in (Status.FAIL, Status.WARN):
                assert finding.remediation and "<account>" not in finding.remediation
                assert finding.source is not None and finding.source.request_id


# --- account -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "state", "expected"),
    [
        ("AIServices", "Succeeded", Status.PASS),
        ("OpenAI", "Succeeded", Status.PASS),
        ("SpeechServices", "Succeeded", Status.FAIL),
        ("OpenAI", "Failed", Status.FAIL),
        ("OpenAI", "Creating", Status.FAIL),
    ],
)
def test_aoai001_kind_and_state(kind: str, state: str, expected: Status) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["kind"] = kind
        data["properties"]["provisioningState"] = state

    findings = run("AOAI001", changed(ready(), "account", mutate))
    assert statuses(findings) == [expected]
    if expected is Status.FAIL:
        assert (state if state != "Succeeded" else kind) in findings[0].message


def test_aoai002_empty_subdomain_fails() -> None:
    assert statuses(run("AOAI002", account_props(ready(), customSubDomainName=""))) == [Status.FAIL]


# --- region ------------------------------------------------------------------------------------


def test_aoai101_region_names_are_normalised() -> None:
    snapshot = changed(ready(), "account", lambda d: d.update(location="Sweden Central"))
    assert statuses(run("AOAI101", snapshot)) == [Status.PASS]


def test_aoai101_policy_can_extend_the_catalog() -> None:
    policy = replace(LEGACY_POLICY, catalog=LEGACY_POLICY.catalog.with_overrides(extra_regions=["westeurope"]))
    assert statuses(run("AOAI101", legacy(), policy)) == [Status.PASS]
    finding = run("AOAI101", legacy(), LEGACY_POLICY)[0]
    assert "westeurope" in finding.message and "2026-11-21" in finding.message


# --- deployments ------------------------------------------------------------------------------


def test_aoai201_model_name_used_instead_of_deployment_name() -> None:
    [finding] = run("AOAI201", legacy(), LEGACY_POLICY)
    assert finding.status is Status.FAIL
    assert "model name used instead of deployment name" in finding.message
    assert "prod-chat" in finding.message
    assert finding.observed["deployments_running_model"] == ["prod-chat"]
    assert finding.resource == "gpt-4o"


def test_aoai201_model_name_that_no_deployment_runs() -> None:
    policy = Policy(deployments=(RequiredDeployment("gpt-4.1"),))
    [finding] = run("AOAI201", legacy(), policy)
    assert finding.status is Status.FAIL
    assert "model name used instead of deployment name" in finding.message
    assert "no deployment in this account runs gpt-4.1" in finding.message


def test_aoai201_plain_missing_name_lists_deployments() -> None:
    [finding] = run("AOAI201", ready(), Policy(deployments=(RequiredDeployment("chat-v2"),)))
    assert finding.status is Status.FAIL
    assert "model name" not in finding.message
    assert "chat, reasoner" in finding.message


def test_aoai201_skips_without_required_deployments() -> None:
    assert statuses(run("AOAI201", ready(), Policy())) == [Status.SKIP]


def test_aoai202_version_and_sku_mismatch() -> None:
    policy = Policy(deployments=(RequiredDeployment("chat", "gpt-4.1", "2024-01-01", sku="Standard"),))
    [finding] = run("AOAI202", ready(), policy)
    assert finding.status is Status.FAIL
    assert "version 2025-04-14 instead of 2024-01-01" in finding.message
    assert "SKU GlobalStandard instead of Standard" in finding.message


def test_aoai202_model_mismatch_and_name_only() -> None:
    policy = Policy(deployments=(RequiredDeployment("chat", "gpt-4o"), RequiredDeployment("reasoner")))
    assert by_resource(run("AOAI202", ready(), policy)) == {"chat": Status.FAIL, "reasoner": Status.SKIP}


def test_aoai203_not_succeeded_fails() -> None:
    snapshot = deployment(ready(), "chat", lambda d: d["properties"].update(provisioningState="Failed"))
    assert by_resource(run("AOAI203", snapshot)) == {"chat": Status.FAIL, "reasoner": Status.PASS}


def test_aoai203_no_deployments_skips() -> None:
    assert statuses(run("AOAI203", changed(ready(), "deployments", lambda d: []))) == [Status.SKIP]


def test_aoai204_model_without_responses_support() -> None:
    snapshot = deployment(
        ready(), "chat", lambda d: d["properties"]["model"].update(name="gpt-35-turbo", version="0613")
    )
    findings = run("AOAI204", snapshot, Policy())
    assert by_resource(findings) == {"chat": Status.FAIL, "reasoner": Status.PASS}


def test_aoai204_unlisted_version_names_supported_ones() -> None:
    snapshot = deployment(ready(), "chat", lambda d: d["properties"]["model"].update(version="2024-01-01"))
    finding = run("AOAI204", snapshot, READY_POLICY)[0]
    assert finding.status is Status.FAIL and "2025-04-14" in finding.message


def test_aoai204_only_required_deployments_when_the_policy_names_some() -> None:
    snapshot = deployment(ready(), "reasoner", lambda d: d["properties"]["model"].update(name="text-embedding-3-large"))
    policy = Policy(deployments=(RequiredDeployment("chat"),))
    assert by_resource(run("AOAI204", snapshot, policy)) == {"chat": Status.PASS}


def _model_entry(snapshot: Any, name: str, version: str, **changes: Any) -> Any:
    def mutate(models: list[dict[str, Any]]) -> None:
        for entry in models:
            if entry["model"]["name"] == name and entry["model"]["version"] == version:
                entry["model"].update(changes)

    return changed(snapshot, "location_models", mutate)


def test_aoai205_retirement_within_threshold_warns_and_shows_replacement() -> None:
    [finding] = run("AOAI205", legacy(), LEGACY_POLICY)
    assert finding.status is Status.WARN
    assert "replacement: gpt-4.1 2025-04-14" in finding.message
    assert finding.observed["days_left"] == 40 or finding.observed["days_left"] == 39


def test_aoai205_threshold_comes_from_the_policy() -> None:
    snapshot = _model_entry(legacy(), "gpt-4o", "2024-05-13", lifecycleStatus="GenerallyAvailable")
    assert statuses(run("AOAI205", snapshot, replace(LEGACY_POLICY, retirement_days=30))) == [Status.PASS]
    assert statuses(run("AOAI205", snapshot, LEGACY_POLICY)) == [Status.WARN]


def test_aoai205_deprecated_or_past_date_fails() -> None:
    snapshot = _model_entry(legacy(), "gpt-4o", "2024-05-13", lifecycleStatus="Deprecated")
    assert statuses(run("AOAI205", snapshot, LEGACY_POLICY)) == [Status.FAIL]
    past = _model_entry(
        legacy(), "gpt-4o", "2024-05-13", lifecycleStatus="GenerallyAvailable", deprecation={"inference": "2026-01-01"}
    )
    findings = run("AOAI205", past, LEGACY_POLICY)
    assert statuses(findings) == [Status.FAIL] and "2026-01-01" in findings[0].message


def test_aoai205_legacy_status_warns_without_a_date() -> None:
    snapshot = _model_entry(ready(), "gpt-4.1", "2025-04-14", lifecycleStatus="Legacy", deprecation=None)
    assert by_resource(run("AOAI205", snapshot, READY_POLICY))["chat"] is Status.WARN


def test_aoai205_version_not_listed_for_the_location_fails() -> None:
    snapshot = changed(ready(), "location_models", lambda d: [])
    findings = run("AOAI205", snapshot, READY_POLICY)
    assert set(statuses(findings)) == {Status.FAIL}
    assert "is not offered in swedencentral (retired, or never available there" in findings[0].message


def test_aoai206_no_auto_upgrade_without_a_date_passes() -> None:
    snapshot = _model_entry(legacy(), "gpt-4o", "2024-05-13", deprecation={}, skus=[{"name": "Standard"}])
    [finding] = run("AOAI206", snapshot, LEGACY_POLICY)
    assert finding.status is Status.PASS and "no retirement date announced" in finding.message


def test_aoai206_auto_upgrade_passes_despite_a_date() -> None:
    snapshot = deployment(
        legacy(), "prod-chat", lambda d: d["properties"].update(versionUpgradeOption="OnceCurrentVersionExpired")
    )
    assert statuses(run("AOAI206", snapshot, LEGACY_POLICY)) == [Status.PASS]


def test_aoai207_blank_policy_name_fails() -> None:
    snapshot = deployment(ready(), "chat", lambda d: d["properties"].update(raiPolicyName=" "))
    assert by_resource(run("AOAI207", snapshot)) == {"chat": Status.FAIL, "reasoner": Status.PASS}


# --- skus ----------------------------------------------------------------------------------------


def test_aoai301_sku_not_offered_fails_and_lists_offered() -> None:
    snapshot = deployment(legacy(), "prod-chat", lambda d: d["sku"].update(name="GlobalStandard"))
    [finding] = run("AOAI301", snapshot, LEGACY_POLICY)
    assert finding.status is Status.FAIL and "offered: Standard" in finding.message


def test_aoai301_version_not_listed_fails() -> None:
    snapshot = changed(legacy(), "location_models", lambda d: [])
    [finding] = run("AOAI301", snapshot, LEGACY_POLICY)
    assert finding.status is Status.FAIL and "is not offered in westeurope" in finding.message


def test_aoai302_capacity_against_minimum() -> None:
    policy = Policy(
        deployments=(
            RequiredDeployment("chat", min_capacity=50),
            RequiredDeployment("reasoner", min_capacity=200),
            RequiredDeployment("missing", min_capacity=1),
        )
    )
    assert by_resource(run("AOAI302", ready(), policy)) == {
        "chat": Status.PASS,
        "reasoner": Status.FAIL,
        "missing": Status.SKIP,
    }


def test_aoai303_headroom_threshold_from_policy() -> None:
    [finding] = run("AOAI303", legacy(), LEGACY_POLICY)
    assert finding.status is Status.FAIL
    assert finding.observed == {"usage": "OpenAI.Standard.gpt-4o", "limit": 100.0, "current": 95.0, "free_percent": 5.0}
    assert statuses(run("AOAI303", legacy(), replace(LEGACY_POLICY, min_quota_headroom=5))) == [Status.PASS]


def test_aoai303_prefers_the_usage_name_arm_lists() -> None:
    def mutate(models: list[dict[str, Any]]) -> None:
        for entry in models:
            for sku in entry["model"].get("skus", []):
                sku["usageName"] = "OpenAI.Standard.gpt-4o-custom"

    snapshot = changed(legacy(), "location_models", mutate)
    snapshot = changed(
        snapshot,
        "usages",
        lambda usages: [{"name": {"value": "OpenAI.Standard.gpt-4o-custom"}, "currentValue": 1, "limit": 100}],
    )
    assert statuses(run("AOAI303", snapshot, LEGACY_POLICY)) == [Status.PASS]


def test_aoai303_missing_usage_warns() -> None:
    snapshot = changed(legacy(), "usages", lambda d: [])
    assert statuses(run("AOAI303", snapshot, LEGACY_POLICY)) == [Status.WARN]


# --- network ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("public", "default_action", "expected"),
    [
        ("Disabled", "Allow", Status.PASS),
        ("Enabled", "Deny", Status.PASS),
        ("Enabled", "Allow", Status.FAIL),
        (None, None, Status.FAIL),
    ],
)
def test_aoai401(public: str | None, default_action: str | None, expected: Status) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["properties"]["publicNetworkAccess"] = public
        data["properties"]["networkAcls"] = {"defaultAction": default_action} if default_action else None

    assert statuses(run("AOAI401", changed(ready(), "account", mutate))) == [expected]


def test_aoai402_reports_pending_and_rejected() -> None:
    [finding] = run("AOAI402", legacy())
    assert finding.status is Status.FAIL and "pending: pe-aoai-legacy" in finding.message

    def add_rejected(items: list[dict[str, Any]]) -> None:
        items.append({"name": "pe-x", "properties": {"privateLinkServiceConnectionState": {"status": "Rejected"}}})

    [finding] = run("AOAI402", changed(ready(), "private_endpoint_connections", add_rejected))
    assert finding.status is Status.PASS and "rejected: pe-x" in finding.message


def test_aoai403_is_a_warning() -> None:
    assert statuses(run("AOAI403", legacy())) == [Status.WARN]


# --- diagnostics ------------------------------------------------------------------------------


def _settings(*logs: dict[str, Any], destination: str = "workspaceId", metrics: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "name": "s1",
            "properties": {
                destination: "/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/z",
                "logs": list(logs),
                "metrics": [{"category": "AllMetrics", "enabled": metrics}],
            },
        }
    ]


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        ([{"categoryGroup": "allLogs", "enabled": True}], Status.PASS),
        ([{"categoryGroup": "audit", "enabled": True}], Status.FAIL),  # audit holds Audit only
        ([{"category": "Audit", "enabled": True}, {"category": "RequestResponse", "enabled": True}], Status.PASS),
        ([{"category": "Audit", "enabled": True}], Status.FAIL),
        ([{"categoryGroup": "allLogs", "enabled": False}], Status.FAIL),
    ],
)
def test_aoai501_categories(logs: list[dict[str, Any]], expected: Status) -> None:
    snapshot = changed(ready(), "diagnostic_settings", lambda d: _settings(*logs))
    assert statuses(run("AOAI501", snapshot)) == [expected]


def test_aoai501_setting_without_destination_does_not_count() -> None:
    def no_destination(d: Any) -> list[dict[str, Any]]:
        settings = _settings({"categoryGroup": "allLogs", "enabled": True})
        settings[0]["properties"]["workspaceId"] = ""
        return settings

    [finding] = run("AOAI501", changed(ready(), "diagnostic_settings", no_destination))
    assert finding.status is Status.FAIL and "none sends to a destination" in finding.message


def test_aoai502_metrics() -> None:
    off = changed(
        ready(),
        "diagnostic_settings",
        lambda d: _settings({"categoryGroup": "allLogs", "enabled": True}, metrics=False),
    )
    assert statuses(run("AOAI502", off)) == [Status.FAIL]
    hub = changed(ready(), "diagnostic_settings", lambda d: _settings(destination="eventHubAuthorizationRuleId"))
    assert statuses(run("AOAI502", hub)) == [Status.PASS]


# --- identity -------------------------------------------------------------------------------


def test_aoai601_missing_property_fails() -> None:
    def drop(data: dict[str, Any]) -> None:
        data["properties"].pop("disableLocalAuth", None)

    assert statuses(run("AOAI601", changed(ready(), "account", drop))) == [Status.FAIL]


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({"type": "UserAssigned", "userAssignedIdentities": {"/x/id1": {}}}, Status.PASS),
        ({"type": "SystemAssigned, UserAssigned"}, Status.PASS),
        ({"type": "None"}, Status.FAIL),
        (None, Status.FAIL),
    ],
)
def test_aoai602(identity: dict[str, Any] | None, expected: Status) -> None:
    assert statuses(run("AOAI602", changed(ready(), "account", lambda d: d.update(identity=identity)))) == [expected]


def test_aoai603_only_when_required() -> None:
    required = Policy(require_cmk=True)
    assert statuses(run("AOAI603", ready(), Policy())) == [Status.SKIP]
    assert statuses(run("AOAI603", ready(), required)) == [Status.FAIL]
    cmk = account_props(
        ready(), encryption={"keySource": "Microsoft.KeyVault", "keyVaultProperties": {"keyVaultUri": "https://v"}}
    )
    assert statuses(run("AOAI603", cmk, required)) == [Status.PASS]


# --- probe ----------------------------------------------------------------------------------


def _with_probe(results: list[dict[str, Any]] | None, error: bool = False) -> Any:
    from aoai.preflight.snapshot import Part, PartError

    snapshot = ready()
    part = Part(name="probe", operation="responses.create (probe)", data=results)
    if error:
        part.error = PartError(message="no endpoint", code="NoEndpoint")
    snapshot.parts["probe"] = part
    return snapshot


def test_aoai701_statuses() -> None:
    results = [
        {"deployment": "chat", "ok": True, "status": 200, "latency_ms": 12.3},
        {"deployment": "slow", "ok": False, "status": 429, "message": "throttled"},
        {"deployment": "gpt-4o", "ok": False, "status": 404, "code": "DeploymentNotFound", "message": "no"},
        {"deployment": "down", "ok": False, "status": None, "code": "TransportError", "message": "timeout"},
    ]
    findings = run("AOAI701", _with_probe(results))
    assert by_resource(findings) == {
        "chat": Status.PASS,
        "slow": Status.WARN,
        "gpt-4o": Status.FAIL,
        "down": Status.ERROR,
    }
    assert "12 ms" in findings[0].message


def test_aoai701_skips_without_probe_and_errors_when_the_probe_could_not_run() -> None:
    assert statuses(run("AOAI701", ready())) == [Status.SKIP]
    assert statuses(run("AOAI701", _with_probe(None, error=True))) == [Status.ERROR]


def test_a_crashing_check_is_an_error() -> None:
    snapshot = changed(ready(), "deployments", lambda d: [{"name": "x", "sku": "not an object"}])
    findings = run("AOAI301", snapshot)
    assert statuses(findings) == [Status.ERROR] and "crashed" in findings[0].message


def test_part_unavailable_names_the_part() -> None:
    assert "deployments" in str(PartUnavailable("deployments", None))
