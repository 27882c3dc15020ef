"""Plan parsers: What-If (both envelopes, every change type) and Terraform plan JSON (azurerm,
azapi, modules) -> planned resources with ARM-shaped bodies and unknown paths."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from aoai.errors import NotFoundError, UsageError
from aoai.preflight.checks import all_checks
from aoai.preflight.plan.endstate import group
from aoai.preflight.plan.evaluate import READS
from aoai.preflight.plan.load import parse_plan
from aoai.preflight.plan.model import Action, Kind, Plan

from .fixtures import (
    ACCOUNT_UNKNOWN,
    REFERENCE,
    SUB,
    account_id,
    tf_account,
    tf_change,
    tf_deployment,
    tf_new_account_plan,
    tf_plan,
    tf_reference,
    whatif_sample,
)


def _parse(document: Any, fmt: str = "auto") -> Plan:
    return parse_plan(json.dumps(document).encode(), "plan.json", fmt)


def _by_kind(plan: Plan, kind: Kind) -> dict[str, Any]:
    return {r.name: r for r in plan.resources if r.kind is kind}


def test_whatif_cli_sample_yields_the_openai_account_its_deployments_and_its_diagnostic_setting() -> None:
    plan = _parse(whatif_sample())
    assert plan.format == "arm-whatif"
    assert [r.kind for r in plan.resources].count(Kind.ACCOUNT) == 1
    assert set(_by_kind(plan, Kind.DEPLOYMENT)) == {"gpt-4o", "gpt-5-chat", "text-embedding-3-large"}
    [setting] = _by_kind(plan, Kind.DIAGNOSTIC_SETTING).values()  # not the Key Vault's or the storage's
    assert setting.account.resource_id and setting.account.resource_id.endswith("/accounts/oai-aio-dev-eus2-npnga")
    account = plan.resources[0]
    assert account.action is Action.CREATE and account.body and account.body["properties"]["disableLocalAuth"] is True
    assert account.unknown == ["tags.deployedAt"]  # "[utcNow(…)]" is resolved only at deployment time
    assert "deployedAt" not in account.body["tags"]
    [planned] = group(plan, None)
    assert planned.created and planned.location == "eastus2" and len(planned.children) == 4


def test_whatif_rest_envelope_and_potential_changes() -> None:
    sample = whatif_sample()
    deployment = next(c for c in sample["changes"] if (c.get("after") or {}).get("name") == "gpt-4o")
    rest = {"status": "Succeeded", "properties": {"changes": sample["changes"][:2], "potentialChanges": [deployment]}}
    plan = _parse(rest)
    assert [r.kind for r in plan.resources] == [Kind.ACCOUNT, Kind.DEPLOYMENT]
    assert plan.resources[1].potential and any("potential change" in n for n in plan.notes)


def test_whatif_failed_or_not_succeeded_is_a_usage_error() -> None:
    sample = whatif_sample()
    with pytest.raises(UsageError, match=r"What-If operation failed .InvalidTemplate"):
        _parse({**sample, "error": {"code": "InvalidTemplate", "message": "bad"}, "status": "Failed"})
    with pytest.raises(UsageError, match="ended Running"):
        _parse({**sample, "status": "Running"})


def test_whatif_change_types_deploy_unsupported_ignore_delete() -> None:
    acct = account_id("aoai-ready")
    document = {
        "status": "Succeeded",
        "changes": [
            {"resourceId": acct, "changeType": "Deploy"},  # ResourceIdOnly: no body
            {"resourceId": f"{acct}/deployments/chat", "changeType": "Ignore"},
            {"resourceId": f"{acct}/deployments/old", "changeType": "Delete", "before": {"name": "old"}},
            {"resourceId": f"{acct}/deployments/new", "changeType": "Create"},
        ],
    }
    plan = _parse(document)
    actions = {r.name: (r.action, r.unknown) for r in plan.resources}
    assert actions == {
        "aoai-ready": (Action.UPDATE, ["*"]),
        "chat": (Action.IGNORE, []),
        "old": (Action.DELETE, []),
        "new": (Action.CREATE, ["*"]),
    }
    assert any("Ignore" in note for note in plan.notes)
    with pytest.raises(UsageError, match="unknown changeType"):
        _parse({"changes": [{"resourceId": acct, "changeType": "Explode"}]})


def test_whatif_of_other_resources_only_is_not_found_and_names_the_types() -> None:
    path = REFERENCE / "iac" / "PostDeploymentWhatIfOnSubscription.2025-04-01.json"
    if not path.is_file():
        pytest.skip("reference IaC examples absent")
    body = json.loads(path.read_text())["responses"]["200"]["body"]
    plan = _parse(body)
    assert plan.resources == []
    with pytest.raises(NotFoundError) as caught:
        group(plan, None)
    assert "azurerm_cognitive_deployment" in caught.value.one_line()


def test_terraform_account_attributes_map_to_arm_names() -> None:
    after = tf_account("aoai-tf", "swedencentral", public=True, local_auth=True)
    after["customer_managed_key"] = [
        {"key_vault_key_id": "https://kv1.vault.azure.net/keys/k1/v1", "identity_client_id": None}
    ]
    plan = _parse(
        tf_plan(
            [
                tf_change(
                    "azurerm_cognitive_account.main",
                    "azurerm_cognitive_account",
                    ["create"],
                    after,
                    after_unknown=ACCOUNT_UNKNOWN,
                )
            ]
        )
    )
    [account] = plan.resources
    body = account.body
    assert body is not None
    assert body["properties"]["publicNetworkAccess"] == "Enabled"
    assert body["properties"]["disableLocalAuth"] is False  # local_auth_enabled = true
    assert body["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert body["properties"]["restrictOutboundNetworkAccess"] is True
    assert body["properties"]["encryption"]["keyVaultProperties"]["keyName"] == "k1"
    assert body["identity"]["type"] == "SystemAssigned"
    assert account.unknown == ["id"]  # identity.principal_id is an output, not the identity type
    assert account.resource_group == "rg-aoai-demo"


def test_terraform_ai_services_spells_the_switches_differently() -> None:
    after = {
        "name": "ais",
        "resource_group_name": "rg",
        "location": "eastus2",
        "sku_name": "S0",
        "public_network_access": "Disabled",
        "local_authentication_enabled": False,
    }
    [account] = _parse(
        tf_plan([tf_change("azurerm_ai_services.x", "azurerm_ai_services", ["create"], after)])
    ).resources
    assert account.body is not None and account.body["kind"] == "AIServices"
    assert account.body["properties"] == {"publicNetworkAccess": "Disabled", "disableLocalAuth": True}


def test_terraform_children_follow_configuration_references_into_modules() -> None:
    account = tf_change(
        "module.ai.azurerm_cognitive_account.this",
        "azurerm_cognitive_account",
        ["create"],
        tf_account("aoai-mod", "eastus2"),
        after_unknown={"id": True},
    )
    deployment = tf_change(
        'module.ai.module.deps.azurerm_cognitive_deployment.d["chat"]',
        "azurerm_cognitive_deployment",
        ["create"],
        tf_deployment("chat", "gpt-4.1", "2025-04-14", "GlobalStandard", 10),
        after_unknown={"cognitive_account_id": True},
    )
    document = tf_plan([account, deployment])
    document["configuration"]["root_module"] = {
        "module_calls": {
            "ai": {
                "module": {
                    "resources": [{"address": "azurerm_cognitive_account.this", "expressions": {}}],
                    "module_calls": {
                        "deps": {
                            "expressions": {
                                "account_id": {
                                    "references": [
                                        "azurerm_cognitive_account.this.id",
                                        "azurerm_cognitive_account.this",
                                    ]
                                }
                            },
                            "module": {
                                "resources": [
                                    {
                                        "address": "azurerm_cognitive_deployment.d",
                                        "expressions": {"cognitive_account_id": {"references": ["var.account_id"]}},
                                    },
                                ]
                            },
                        }
                    },
                }
            }
        }
    }
    plan = _parse(document)
    [planned] = group(plan, SUB)
    assert planned.target.account == "aoai-mod" and [c.name for c in planned.children] == ["chat"]


def test_terraform_deployment_without_version_is_unknown_until_apply_and_unlinked_child_is_noted() -> None:
    document = tf_new_account_plan(deployments=[("chat", "gpt-4.1", None, "GlobalStandard", 10)])
    plan = _parse(document)
    [deployment] = _by_kind(plan, Kind.DEPLOYMENT).values()
    assert "properties.model.version" in deployment.unknown
    document["configuration"]["root_module"]["resources"] = []  # no reference: the account is unknown
    plan = _parse(document)
    assert not _by_kind(plan, Kind.DEPLOYMENT) and any("known only after apply" in n for n in plan.notes)


def test_terraform_actions_replace_delete_read_and_old_scale_block() -> None:
    acct = account_id("aoai-ready")
    old = {**tf_deployment("old", "gpt-4o", "2024-05-13", "Standard", 10, acct)}
    scale = {**tf_deployment("s", "gpt-4o", "2024-11-20", "Standard", 10, acct), "sku": []}
    scale["scale"] = [{"type": "Standard", "capacity": 30}]
    changes = [
        tf_change("azurerm_cognitive_deployment.old", "azurerm_cognitive_deployment", ["delete"], None, before=old),
        tf_change(
            "azurerm_cognitive_deployment.r",
            "azurerm_cognitive_deployment",
            ["delete", "create"],
            tf_deployment("r", "gpt-4.1", "2025-04-14", "GlobalStandard", 5, acct),
            before=old,
        ),
        tf_change("azurerm_cognitive_deployment.s", "azurerm_cognitive_deployment", ["update"], scale, before=scale),
        {**tf_change("data.azurerm_cognitive_account.x", "azurerm_cognitive_account", ["read"], None), "mode": "data"},
    ]
    plan = _parse(tf_plan(changes))
    resources = {r.name: r for r in plan.resources}
    assert {n: r.action for n, r in resources.items()} == {
        "old": Action.DELETE,
        "r": Action.REPLACE,
        "s": Action.UPDATE,
    }
    assert resources["s"].body is not None and resources["s"].body["sku"] == {"name": "Standard", "capacity": 30}


def test_azapi_resources_carry_arm_bodies_as_object_or_string() -> None:
    rg = f"/subscriptions/{SUB}/resourceGroups/rg-aoai-demo"
    account = {
        "type": "Microsoft.CognitiveServices/accounts@2024-10-01",
        "name": "aoai-azapi",
        "parent_id": rg,
        "location": "swedencentral",
        "identity": [{"type": "SystemAssigned", "identity_ids": []}],
        "body": {
            "kind": "AIServices",
            "sku": {"name": "S0"},
            "properties": {"publicNetworkAccess": "Disabled", "disableLocalAuth": True},
        },
    }
    deployment = {
        "type": "Microsoft.CognitiveServices/accounts/deployments@2024-10-01",
        "name": "chat",
        "parent_id": None,
        "body": json.dumps(
            {
                "sku": {"name": "GlobalStandard", "capacity": 10},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4.1"}},
            }
        ),
    }
    document = tf_plan(
        [
            tf_change("azapi_resource.account", "azapi_resource", ["create"], account, after_unknown={"id": True}),
            tf_change(
                "azapi_resource.chat", "azapi_resource", ["create"], deployment, after_unknown={"parent_id": True}
            ),
        ],
        [tf_reference("azapi_resource.chat", "parent_id", "azapi_resource.account")],
    )
    document["resource_changes"][0]["change"]["after_sensitive"] = {"body": {"properties": {"disableLocalAuth": True}}}
    plan = _parse(document)
    [planned] = group(plan, None)
    assert planned.target.resource_id == account_id("aoai-azapi")
    assert planned.account and planned.account.unknown == ["properties.disableLocalAuth"]  # sensitive: kept out
    assert planned.account.body and "disableLocalAuth" not in planned.account.body["properties"]
    assert planned.account and planned.account.body and planned.account.body["identity"]["type"] == "SystemAssigned"
    [chat] = planned.children
    assert chat.body is not None and chat.body["sku"]["capacity"] == 10
    assert chat.unknown == ["properties.model.version"]


def test_terraform_diagnostic_setting_private_endpoint_and_cmk_resources() -> None:
    acct = account_id("aoai-ready")
    setting = {
        "name": "to-law",
        "target_resource_id": acct,
        "log_analytics_workspace_id": "/subscriptions/x/ws",
        "enabled_log": [{"category": "", "category_group": "allLogs"}],
        "metric": [{"category": "AllMetrics", "enabled": True}],
    }
    endpoint = {
        "name": "pe",
        "subnet_id": "/sub/net",
        "private_service_connection": [
            {
                "name": "c",
                "is_manual_connection": True,
                "private_connection_resource_id": acct,
                "subresource_names": ["account"],
            }
        ],
    }
    cmk = {
        "cognitive_account_id": acct,
        "key_vault_key_id": "https://kv.vault.azure.net/keys/k",
        "identity_client_id": None,
    }
    other = {
        **setting,
        "target_resource_id": "/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/kv",
    }
    plan = _parse(
        tf_plan(
            [
                tf_change(
                    "azurerm_monitor_diagnostic_setting.d", "azurerm_monitor_diagnostic_setting", ["create"], setting
                ),
                tf_change(
                    "azurerm_monitor_diagnostic_setting.kv", "azurerm_monitor_diagnostic_setting", ["create"], other
                ),
                tf_change("azurerm_private_endpoint.pe", "azurerm_private_endpoint", ["create"], endpoint),
                tf_change(
                    "azurerm_cognitive_account_customer_managed_key.k",
                    "azurerm_cognitive_account_customer_managed_key",
                    ["create"],
                    cmk,
                ),
            ]
        )
    )
    kinds = {r.kind: r for r in plan.resources}
    assert set(kinds) == {Kind.DIAGNOSTIC_SETTING, Kind.PRIVATE_ENDPOINT, Kind.CUSTOMER_MANAGED_KEY}
    body = kinds[Kind.DIAGNOSTIC_SETTING].body
    assert body and body["properties"]["logs"] == [{"category": None, "categoryGroup": "allLogs", "enabled": True}]
    assert kinds[Kind.PRIVATE_ENDPOINT].body == {"manual": True, "groupIds": ["account"], "name": "c"}
    [planned] = group(plan, None)
    assert planned.target.resource_id == acct and not planned.created


def test_terraform_plan_shape_errors() -> None:
    with pytest.raises(UsageError, match=r"format_version '2\.0' is not supported"):
        _parse({**tf_plan([]), "format_version": "2.0"})
    with pytest.raises(UsageError, match="planning failed"):
        _parse({**tf_plan([]), "errored": True})
    with pytest.raises(UsageError, match="must be a list"):
        _parse({**tf_plan([]), "resource_changes": {"a": 1}})
    with pytest.raises(UsageError, match="not a Terraform plan"):
        _parse(whatif_sample(), "terraform")
    with pytest.raises(UsageError, match="--format"):
        parse_plan(b"{}", "x", "bicep")
    deep = "[" * 300 + "]" * 300
    with pytest.raises(UsageError, match="nested"):
        parse_plan(deep.encode(), "deep.json")
    with pytest.raises(UsageError, match="not UTF-8"):
        parse_plan(b'{"changes": ["\xff"]}', "bin.json")
    plan = copy.deepcopy(tf_plan([]))
    del plan["resource_changes"]
    with pytest.raises(NotFoundError):
        group(_parse(plan), None)  # a plan with nothing to do omits resource_changes


def test_every_check_declares_what_it_reads_from_a_plan() -> None:
    """A new check must say which planned fields it reads (or none), so unknowns cannot pass it."""
    assert set(READS) == set(all_checks())
