"""Plan documents for the tests, shaped like real ones.

What-If documents start from the reference sample (a real ``az deployment sub what-if
--no-pretty-print`` result, ../shared/reference/iac) and are edited per case; tests that use them
skip when the reference folder is absent. Terraform plans are built here from the documented
``terraform show -json`` format (format_version, resource_changes[].change.{actions, before, after,
after_unknown}, configuration references), since no real Azure OpenAI plan is published.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ...conftest import REFERENCE

WHATIF_SAMPLE = REFERENCE / "iac" / "az-deployment-sub-what-if.aoai-foundry.redacted.json"
SAMPLE_SUB = "00000000-0000-0000-0000-000000000000"
SUB = "00000000-0000-0000-0000-000000000001"  # the emulator's subscription
RG = "rg-aoai-demo"
ACCOUNTS = "/providers/Microsoft.CognitiveServices/accounts"


def whatif_sample() -> dict[str, Any]:
    if not WHATIF_SAMPLE.is_file():
        pytest.skip("reference IaC examples absent (../shared/reference/iac)")
    document: dict[str, Any] = json.loads(WHATIF_SAMPLE.read_text(encoding="utf-8"))
    return document


def _retarget(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_retarget(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _retarget(v, old, new) for k, v in value.items()}
    return value


def whatif_for_emulator(account: str = "aoai-planned", location: str = "swedencentral") -> dict[str, Any]:
    """The sample's OpenAI account, its deployments and its diagnostic setting, moved into the
    emulator's subscription and resource group under ``account`` in ``location``."""
    document = whatif_sample()
    sample_account = next(
        c["after"]["name"]
        for c in document["changes"]
        if (c.get("after") or {}).get("type") == "Microsoft.CognitiveServices/accounts"
    )
    document = _retarget(
        document,
        f"/subscriptions/{SAMPLE_SUB}/resourceGroups/rg-aio-dev-eus2",
        f"/subscriptions/{SUB}/resourceGroups/{RG}",
    )
    document = _retarget(document, f"accounts/{sample_account}", f"accounts/{account}")
    for change in document["changes"]:
        after = change.get("after") or {}
        if after.get("type") == "Microsoft.CognitiveServices/accounts":
            after["name"] = account
            after["location"] = location
            after["properties"]["customSubDomainName"] = account
    return document


def changes_of(document: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [c for c in document["changes"] if (c.get("after") or c.get("before") or {}).get("type") == type_]


def account_change(document: dict[str, Any]) -> dict[str, Any]:
    [change] = changes_of(document, "Microsoft.CognitiveServices/accounts")
    return change


def deployment_change(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(
        c
        for c in changes_of(document, "Microsoft.CognitiveServices/accounts/deployments")
        if c["after"]["name"] == name
    )


def add_deployment(
    document: dict[str, Any],
    account_id: str,
    name: str,
    model: str,
    version: str | None,
    sku: str,
    capacity: int,
    change_type: str = "Create",
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A deployment change shaped like the sample's (copied from its first deployment)."""
    template = copy.deepcopy(changes_of(whatif_sample(), "Microsoft.CognitiveServices/accounts/deployments")[0])
    resource_id = f"{account_id}/deployments/{name}"
    template["resourceId"] = resource_id
    template["changeType"] = change_type
    template["before"] = before
    after = template["after"]
    after.update(
        id=resource_id, name=name, resourceGroup=account_id.split("/")[4], sku={"name": sku, "capacity": capacity}
    )
    after["properties"]["model"] = {"format": "OpenAI", "name": model, **({"version": version} if version else {})}
    document["changes"].append(template)
    return template


def account_id(name: str, sub: str = SUB, rg: str = RG) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}{ACCOUNTS}/{name}"


# ---------------------------------------------------------------------------------------------
# Terraform


def tf_change(
    address: str,
    type_: str,
    actions: list[str],
    after: dict[str, Any] | None,
    *,
    before: dict[str, Any] | None = None,
    after_unknown: dict[str, Any] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    module = address.rsplit(".", 2)[0] if address.startswith("module.") else None
    return {
        "address": address,
        **({"module_address": module} if module else {}),
        "mode": "managed",
        "type": type_,
        "name": name or address.rsplit(".", 1)[-1].split("[")[0],
        "provider_name": "registry.terraform.io/hashicorp/azurerm"
        if type_.startswith("azurerm")
        else "registry.terraform.io/azure/azapi",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": after_unknown if after_unknown is not None else {},
            "before_sensitive": False,
            "after_sensitive": {},
        },
    }


def tf_account(
    name: str, location: str, *, public: bool = False, local_auth: bool = False, kind: str = "OpenAI"
) -> dict[str, Any]:
    return {
        "name": name,
        "resource_group_name": RG,
        "location": location,
        "kind": kind,
        "sku_name": "S0",
        "custom_subdomain_name": name,
        "public_network_access_enabled": public,
        "local_auth_enabled": local_auth,
        "outbound_network_access_restricted": True,
        "fqdns": ["contoso.com"],
        "dynamic_throttling_enabled": False,
        "network_acls": [
            {"default_action": "Deny", "ip_rules": [], "virtual_network_rules": [], "bypass": "AzureServices"}
        ],
        "identity": [{"type": "SystemAssigned", "identity_ids": []}],
        "customer_managed_key": [],
        "storage": [],
        "tags": {"env": "prod"},
        "timeouts": None,
    }


ACCOUNT_UNKNOWN = {
    "id": True,
    "endpoint": True,
    "primary_access_key": True,
    "secondary_access_key": True,
    "identity": [{"principal_id": True, "tenant_id": True, "identity_ids": []}],
    "network_acls": [{"ip_rules": [], "virtual_network_rules": []}],
    "fqdns": [False],
    "tags": {},
}


def tf_deployment(
    name: str, model: str, version: str | None, sku: str, capacity: int, account_id: str | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "cognitive_account_id": account_id,
        "model": [{"format": "OpenAI", "name": model, "version": version}],
        "sku": [{"name": sku, "capacity": capacity, "tier": None, "size": None, "family": None}],
        "rai_policy_name": "Microsoft.DefaultV2",
        "version_upgrade_option": "OnceNewDefaultVersionAvailable",
        "dynamic_throttling_enabled": None,
        "timeouts": None,
    }


def tf_plan(changes: list[dict[str, Any]], config_resources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {
                "azurerm": {
                    "name": "azurerm",
                    "full_name": "registry.terraform.io/hashicorp/azurerm",
                    "expressions": {"features": [{}]},
                }
            },
            "root_module": {"resources": config_resources or []},
        },
        "timestamp": "2026-11-29T10:00:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def tf_reference(address: str, attribute: str, target: str) -> dict[str, Any]:
    """The configuration entry of ``address`` whose ``attribute`` refers to ``target``'s id."""
    type_, name = address.split(".")[-2:]
    return {
        "address": address,
        "mode": "managed",
        "type": type_,
        "name": name,
        "provider_config_key": "azurerm",
        "expressions": {attribute: {"references": [f"{target}.id", target]}},
        "schema_version": 0,
    }


def tf_new_account_plan(
    name: str = "aoai-tf",
    location: str = "swedencentral",
    deployments: list[tuple[str, str, str | None, str, int]] | None = None,
    **account: Any,
) -> dict[str, Any]:
    """A plan creating an account and its deployments (tied by configuration references: the
    account id is unknown until apply)."""
    changes = [
        tf_change(
            "azurerm_cognitive_account.main",
            "azurerm_cognitive_account",
            ["create"],
            tf_account(name, location, **account),
            after_unknown=ACCOUNT_UNKNOWN,
        )
    ]
    config = []
    for dep_name, model, version, sku, capacity in deployments or []:
        address = f'azurerm_cognitive_deployment.this["{dep_name}"]'
        unknown: dict[str, Any] = {"id": True, "cognitive_account_id": True, "model": [{}], "sku": [{}]}
        if version is None:
            unknown["model"] = [{"version": True}]
        changes.append(
            tf_change(
                address,
                "azurerm_cognitive_deployment",
                ["create"],
                tf_deployment(dep_name, model, version, sku, capacity),
                after_unknown=unknown,
                name="this",
            )
        )
    if deployments:
        config.append(
            tf_reference("azurerm_cognitive_deployment.this", "cognitive_account_id", "azurerm_cognitive_account.main")
        )
    return tf_plan(changes, config)


def write(tmp_path: Path, document: Any, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path
