"""The account shapes of issue 10 as snapshot fixtures, each a fact the checks used to assume instead
of reading from ARM: category-group membership, SKU retirement, quota usage names, placeholder
dates, versions the region no longer lists. Pure: snapshots in, findings out."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aoai.preflight import evidence
from aoai.preflight.lifecycle import effective_retirement
from aoai.preflight.policy import Policy, RequiredDeployment
from aoai.preflight.report import Status

from .snapshots import FIXTURES, LEGACY_POLICY, READY_POLICY, changed, deployment, failed, legacy, ready, run

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- 1. category groups are ARM's data -------------------------------------------------------------


def _audit_only(data: Any) -> list[dict[str, Any]]:
    workspace = "/subscriptions/x/resourceGroups/rg-platform/providers/Microsoft.OperationalInsights/workspaces/law"
    return [
        {
            "name": "setbypolicy",
            "properties": {
                "workspaceId": workspace,
                "logs": [{"categoryGroup": "audit", "enabled": True}],
                "metrics": [],
            },
        }
    ]


def test_audit_group_covers_audit_only_as_arm_lists_it() -> None:
    [finding] = run("AOAI501", changed(ready(), "diagnostic_settings", _audit_only))
    assert finding.status is Status.FAIL
    assert "does not send RequestResponse logs" in finding.message
    assert finding.observed["category_groups"]["audit"] == ["Audit"]  # recorded in the evidence
    assert finding.observed["covered"] == ["Audit"]


def test_group_membership_follows_what_arm_returns() -> None:
    """If ARM listed RequestResponse in the audit group, the audit group would cover it: data, not code."""

    def widen(categories: list[dict[str, Any]]) -> None:
        for category in categories:
            if category["name"] == "RequestResponse":
                category["properties"]["categoryGroups"] = ["audit", "allLogs"]

    snapshot = changed(changed(ready(), "diagnostic_settings", _audit_only), "diagnostic_categories", widen)
    assert run("AOAI501", snapshot)[0].status is Status.PASS


def test_without_the_categories_only_named_categories_and_all_logs_count() -> None:
    snapshot = failed(changed(ready(), "diagnostic_settings", _audit_only), "diagnostic_categories")
    [finding] = run("AOAI501", snapshot)
    assert finding.status is Status.FAIL  # not an error: the settings were read
    assert "category groups unknown" in finding.message and "rid-diagnostic_categories" in finding.message
    assert "only named categories and allLogs were credited, not setbypolicy: categoryGroup audit" in finding.message
    still = failed(ready(), "diagnostic_categories")  # allLogs: every log category, by definition
    assert run("AOAI501", still)[0].status is Status.PASS


# --- 2. one effective retirement: the earlier of model and SKU --------------------------------------


def _model(inference: datetime | None, sku_date: datetime | None, sku: str = "Standard") -> dict[str, Any]:
    entry: dict[str, Any] = {"name": "gpt-4o-mini", "version": "2024-07-18", "skus": [{"name": sku}]}
    if inference:
        entry["deprecation"] = {"inference": _iso(inference)}
    if sku_date:
        entry["skus"][0]["deprecationDate"] = _iso(sku_date)
    return entry


def test_effective_retirement_is_the_earlier_date_and_says_which() -> None:
    sku_first = effective_retirement(_model(NOW + timedelta(days=177), NOW - timedelta(days=6)), "Standard", NOW)
    assert (sku_first.source, sku_first.date, sku_first.retired(NOW)) == ("sku", "2026-11-23", True)
    assert sku_first.describe(NOW) == "SKU Standard retired on 2026-11-23"
    model_first = effective_retirement(_model(NOW + timedelta(days=10), NOW + timedelta(days=60)), "Standard", NOW)
    assert model_first.source == "model" and model_first.days_left(NOW) == 10
    other_sku = effective_retirement(_model(NOW + timedelta(days=177), NOW - timedelta(days=6)), "GlobalStandard", NOW)
    assert other_sku.source == "model"  # the Standard date does not apply to GlobalStandard


def _retire_standard_sku(snapshot: Any, days: int) -> Any:
    when = _iso(snapshot.now + timedelta(days=days))

    def mutate(models: list[dict[str, Any]]) -> None:
        for entry in models:
            if (entry["model"]["name"], entry["model"]["version"]) == ("gpt-4o", "2024-05-13"):
                entry["model"]["deprecation"] = {"inference": _iso(snapshot.now + timedelta(days=177))}
                entry["model"]["lifecycleStatus"] = "GenerallyAvailable"
                for sku in entry["model"]["skus"]:
                    sku["deprecationDate"] = when

    return changed(snapshot, "location_models", mutate)


def test_a_retired_sku_fails_aoai205_and_aoai301_and_aoai206_warns() -> None:
    snapshot = _retire_standard_sku(legacy(), -6)
    [lifecycle] = run("AOAI205", snapshot, LEGACY_POLICY)
    assert lifecycle.status is Status.FAIL and "SKU Standard retired on" in lifecycle.message
    assert lifecycle.observed["retires_by"] == "sku" and lifecycle.observed["effective_retirement"]
    [offered] = run("AOAI301", snapshot, LEGACY_POLICY)
    assert offered.status is Status.FAIL and "SKU Standard of gpt-4o 2024-05-13 retired on" in offered.message
    [upgrade] = run("AOAI206", snapshot, LEGACY_POLICY)
    assert upgrade.status is Status.WARN and "SKU Standard retired on" in upgrade.message


def test_a_sku_retiring_soon_warns_with_the_effective_date() -> None:
    [finding] = run("AOAI205", _retire_standard_sku(legacy(), 20), LEGACY_POLICY)
    assert finding.status is Status.WARN and "SKU Standard retires on" in finding.message


# --- 4. usage names from ARM, never invented -------------------------------------------------------


def _provisioned(snapshot: Any, usage_name: str | None) -> Any:
    snapshot = deployment(snapshot, "prod-chat", lambda d: d["sku"].update(name="ProvisionedManaged"))

    def mutate(models: list[dict[str, Any]]) -> None:
        for entry in models:
            if (entry["model"]["name"], entry["model"]["version"]) == ("gpt-4o", "2024-05-13"):
                sku: dict[str, Any] = {"name": "ProvisionedManaged"}
                if usage_name:
                    sku["usageName"] = usage_name
                entry["model"]["skus"].append(sku)

    snapshot = changed(snapshot, "location_models", mutate)
    pool = {"name": {"value": "OpenAI.ProvisionedManaged"}, "currentValue": 100, "limit": 500}
    return changed(snapshot, "usages", lambda usages: [*usages, pool])


def test_provisioned_quota_is_the_shared_pool_arm_names() -> None:
    [finding] = run("AOAI303", _provisioned(legacy(), "OpenAI.ProvisionedManaged"), LEGACY_POLICY)
    assert finding.status is Status.PASS and "OpenAI.ProvisionedManaged" in finding.message


def test_no_usage_name_from_arm_is_reported_not_guessed() -> None:
    [finding] = run("AOAI303", _provisioned(legacy(), None), LEGACY_POLICY)
    assert finding.status is Status.WARN and "quota could not be matched" in finding.message
    assert "OpenAI.ProvisionedManaged.gpt-4o" not in finding.message  # the name that cannot exist
    assert "related usages ARM returned: OpenAI.ProvisionedManaged, OpenAI.Standard.gpt-4o" in finding.message


# --- 5. placeholder dates ---------------------------------------------------------------------------


def test_a_placeholder_date_reads_as_no_retirement_announced() -> None:
    def partner(models: list[dict[str, Any]]) -> None:
        for entry in models:
            if entry["model"]["name"] == "gpt-4.1":
                entry["model"]["deprecation"] = {"inference": "2099-12-31T00:00:00Z"}

    snapshot = changed(ready(), "location_models", partner)
    findings = {f.resource: f for f in run("AOAI205", snapshot, READY_POLICY)}
    assert findings["chat"].status is Status.PASS
    assert "no retirement date announced" in findings["chat"].message and "2099" not in findings["chat"].message
    assert findings["chat"].observed["placeholder_dates"] == ["2099-12-31"]
    pinned = deployment(snapshot, "chat", lambda d: d["properties"].update(versionUpgradeOption="NoAutoUpgrade"))
    upgrade = {f.resource: f for f in run("AOAI206", pinned, READY_POLICY)}["chat"]
    assert upgrade.status is Status.PASS and "no retirement date announced" in upgrade.message


# --- 8. a version the region no longer lists never passes -------------------------------------------


def test_an_unlisted_version_fails_each_lifecycle_check() -> None:
    def drop(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [m for m in models if (m["model"]["name"], m["model"]["version"]) != ("gpt-4o", "2024-05-13")]

    snapshot = changed(legacy(), "location_models", drop)
    policy = Policy(deployments=(RequiredDeployment("prod-chat"),))
    for check in ("AOAI205", "AOAI206", "AOAI301"):
        [finding] = run(check, snapshot, policy)
        assert finding.status is Status.FAIL, (check, finding.message)
        assert "gpt-4o 2024-05-13 is not offered in westeurope (retired, or never available there" in finding.message
        assert "offered versions: 2024-11-20" in finding.message


# --- evidence ---------------------------------------------------------------------------------------


def test_evidence_written_before_the_new_rules_still_verifies() -> None:
    """Written by aoai 0.1.0 (check rules 1) for the default scenario's aoai-legacy: AOAI501 passed on
    the audit-only setting and the retired SKU passed. Intact as written, so it verifies; what today's
    rules decide differently is reported as notes."""
    document = json.loads((FIXTURES / "evidence-rules-1.json").read_text(encoding="utf-8"))
    assert "rules" not in document["tool"]
    result = evidence.verify(document)
    assert result.ok, result.problems
    assert any("AOAI501" in note for note in result.notes)
    tampered = copy.deepcopy(document)
    tampered["findings"][0]["status"] = "fail"
    assert not evidence.verify(tampered).ok  # the digest still catches an edit
