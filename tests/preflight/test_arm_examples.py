"""Checks over snapshots built from the official example responses of the Azure REST API specs
(../shared/reference/arm-examples): the shapes ARM documents, not the ones we or the emulator
assume. Skipped when the reference folder is absent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aoai.preflight.policy import Policy
from aoai.preflight.report import Status
from aoai.preflight.snapshot import AccountSnapshot, Part, Target

from ..conftest import REFERENCE
from .snapshots import by_resource, run, statuses

EXAMPLES = REFERENCE / "arm-examples"

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="reference ARM examples are not available")


def _body(name: str) -> Any:
    example = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return example["responses"]["200"]["body"]


def _snapshot(**parts: Any) -> AccountSnapshot:
    snapshot = AccountSnapshot(
        target=Target("00000000-1111-2222-3333-444444444444", "myResourceGroup", "myAccount"),
        taken_at="2026-11-21T00:00:00Z",
        arm_endpoint="https://management.azure.com",
    )
    for name, data in parts.items():
        snapshot.parts[name] = Part(
            name=name, operation=name, api_version="example", request_ids=[f"rid-{name}"], data=data
        )
    return snapshot


def test_get_account_example_is_not_an_openai_account() -> None:
    account = _body("GetAccount.json")
    findings = run("AOAI001", _snapshot(account=account))
    assert statuses(findings) == [Status.FAIL]
    assert "Emotion" in findings[0].message
    # No customSubDomainName, no network rules, key auth on, no identity, region westus (supported).
    assert statuses(run("AOAI002", _snapshot(account=account))) == [Status.FAIL]
    assert statuses(run("AOAI401", _snapshot(account=account))) == [Status.FAIL]
    assert statuses(run("AOAI601", _snapshot(account=account))) == [Status.FAIL]
    assert statuses(run("AOAI602", _snapshot(account=account))) == [Status.FAIL]
    assert statuses(run("AOAI101", _snapshot(account=account))) == [Status.PASS]


def test_list_deployments_example() -> None:
    deployments = _body("ListDeployments.json")["value"]
    snapshot = _snapshot(account=_body("GetAccount.json"), deployments=deployments)
    assert by_resource(run("AOAI203", snapshot)) == {"deploymentName": Status.PASS}
    # ada 1 is not a Responses model; no raiPolicyName in the example.
    assert by_resource(run("AOAI204", snapshot, Policy())) == {"deploymentName": Status.FAIL}
    assert by_resource(run("AOAI207", snapshot)) == {"deploymentName": Status.FAIL}


def test_location_models_example_drives_lifecycle_and_skus() -> None:
    models = _body("ListLocationModels.json")["value"]
    deployments = _body("ListDeployments.json")["value"]  # ada 1, Standard
    snapshot = _snapshot(account=_body("GetAccount.json"), deployments=deployments, location_models=models)
    # ada 1: lifecycleStatus Legacy, inference deprecation 2024-06-14 — long past at the snapshot's time.
    [lifecycle] = run("AOAI205", snapshot)
    assert lifecycle.status is Status.FAIL and "2024-06-14" in lifecycle.message
    # The example offers ada 1 only as "provisioned", not Standard.
    [sku] = run("AOAI301", snapshot)
    assert sku.status is Status.FAIL and "provisioned" in sku.message


def test_usages_example_has_no_openai_quota_entry() -> None:
    snapshot = _snapshot(
        account=_body("GetAccount.json"),
        deployments=_body("ListDeployments.json")["value"],
        location_models=_body("ListLocationModels.json")["value"],
        usages=_body("ListUsages.json")["value"],
    )
    [finding] = run("AOAI303", snapshot)
    # The example's model list gives no usageName for ada's SKU: reported as unmatched, never a guessed name.
    assert finding.status is Status.WARN and "quota could not be matched" in finding.message
    assert "OpenAI.Standard.ada" not in finding.message


def test_private_endpoint_connections_example_is_approved() -> None:
    snapshot = _snapshot(
        account=_body("GetAccount.json"),
        private_endpoint_connections=_body("ListPrivateEndpointConnections.json")["value"],
    )
    assert statuses(run("AOAI402", snapshot)) == [Status.PASS]


def test_diagnostic_settings_example() -> None:
    # allLogs to a storage account and an event hub (workspaceId empty); metrics are WorkflowMetrics only.
    snapshot = _snapshot(
        account=_body("GetAccount.json"), diagnostic_settings=_body("listDiagnosticSettings.json")["value"]
    )
    [logs] = run("AOAI501", snapshot)
    assert logs.status is Status.PASS and "allLogs" in logs.message
    assert logs.observed["with_destination"] == {"mysetting": ["storageAccountId", "eventHubAuthorizationRuleId"]}
    assert statuses(run("AOAI502", snapshot)) == [Status.FAIL]
