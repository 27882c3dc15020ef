"""Scenario objects -> ARM JSON, shaped like the official examples of the Azure REST API specs.

Microsoft.CognitiveServices accounts, deployments, models, usages and model capacities;
Microsoft.Insights diagnostic settings and categories; subscriptions; Resource Graph rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aoai.emulator.scenario import (
    ACCOUNT_TYPE,
    Account,
    Deployment,
    DiagnosticSetting,
    LocationModel,
    ModelCapacity,
    PrivateEndpointConnection,
    Scenario,
    Subscription,
    Usage,
)

# Diagnostic log categories of Microsoft.CognitiveServices/accounts: (name, type, groups).
ACCOUNT_DIAGNOSTIC_CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Audit", "Logs", ("audit", "allLogs")),
    ("RequestResponse", "Logs", ("allLogs",)),
    ("AzureOpenAIRequestUsage", "Logs", ("allLogs",)),
    ("Trace", "Logs", ("allLogs",)),
    ("AllMetrics", "Metrics", ()),
)


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(p.lower() for p in parts)))


# --- JSON builders (scenario objects -> ARM JSON) ----------------------------------------------


def _system_data(created: dt.datetime) -> dict[str, str]:
    return {
        "createdBy": "platform-team@contoso.com",
        "createdByType": "User",
        "createdAt": iso(created),
        "lastModifiedBy": "platform-team@contoso.com",
        "lastModifiedByType": "User",
        "lastModifiedAt": iso(created),
    }


def private_endpoint_connection_json(account: Account, pec: PrivateEndpointConnection) -> dict[str, Any]:
    endpoint_id = pec.private_endpoint_id or (
        f"/subscriptions/{account.subscription_id}/resourceGroups/{account.resource_group}"
        f"/providers/Microsoft.Network/privateEndpoints/{pec.name.split('.')[0]}"
    )
    return {
        "name": pec.name,
        "type": f"{ACCOUNT_TYPE}/privateEndpointConnections",
        "id": f"{account.id}/privateEndpointConnections/{pec.name}",
        "properties": {
            "privateEndpoint": {"id": endpoint_id},
            "privateLinkServiceConnectionState": {
                "description": pec.description,
                "actionsRequired": pec.actions_required,
                "status": pec.status,
            },
        },
    }


def _identity_json(account: Account, tenant_id: str) -> dict[str, Any] | None:
    if account.identity_type == "None":
        return None
    identity: dict[str, Any] = {"type": account.identity_type}
    if account.principal_id:
        identity["principalId"] = account.principal_id
        identity["tenantId"] = tenant_id
    if "UserAssigned" in account.identity_type:
        identity["userAssignedIdentities"] = {
            rid: {"principalId": stable_uuid("uai-principal", rid), "clientId": stable_uuid("uai-client", rid)}
            for rid in account.user_assigned_identities
        }
    return identity


def _account_properties(account: Account) -> dict[str, Any]:
    endpoint = account.endpoint
    endpoints = {
        "OpenAI Language Model Instance API": endpoint,
        "OpenAI Dall-E API": endpoint,
        "OpenAI Realtime API": endpoint.replace("https://", "wss://", 1),
    }
    if account.kind == "AIServices" and account.custom_subdomain:
        endpoints["Azure AI Model Inference API"] = f"https://{account.custom_subdomain}.services.ai.azure.com/"
        endpoints["Content Safety"] = f"https://{account.custom_subdomain}.cognitiveservices.azure.com/"
    props: dict[str, Any] = {
        "endpoint": endpoint,
        "provisioningState": account.provisioning_state,
        "internalId": uuid.uuid5(uuid.NAMESPACE_URL, account.id.lower()).hex,
        "dateCreated": account.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        "endpoints": endpoints,
    }
    if account.custom_subdomain:
        props["customSubDomainName"] = account.custom_subdomain
    if account.network_default_action is not None:
        acls: dict[str, Any] = {
            "defaultAction": account.network_default_action,
            "virtualNetworkRules": [
                {"id": rule, "state": "Succeeded", "ignoreMissingVnetServiceEndpoint": False}
                for rule in account.virtual_network_rules
            ],
            "ipRules": [{"value": ip} for ip in account.ip_rules],
        }
        if account.network_bypass:
            acls["bypass"] = account.network_bypass
        props["networkAcls"] = acls
    props["privateEndpointConnections"] = [
        private_endpoint_connection_json(account, p) for p in account.private_endpoint_connections
    ]
    props["publicNetworkAccess"] = account.public_network_access
    props["restrictOutboundNetworkAccess"] = account.restrict_outbound_network_access
    if account.allowed_fqdn_list:
        props["allowedFqdnList"] = list(account.allowed_fqdn_list)
    props["disableLocalAuth"] = account.disable_local_auth
    if account.encryption_key_source is not None:
        encryption: dict[str, Any] = {"keySource": account.encryption_key_source}
        if account.encryption_key_source == "Microsoft.KeyVault":
            vault: dict[str, Any] = {"keyName": account.key_name, "keyVaultUri": account.key_vault_uri}
            if account.key_version:
                vault["keyVersion"] = account.key_version
            if account.key_identity_client_id:
                vault["identityClientId"] = account.key_identity_client_id
            encryption["keyVaultProperties"] = vault
        props["encryption"] = encryption
    return props


def account_json(account: Account, scenario: Scenario) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": account.id,
        "name": account.name,
        "type": ACCOUNT_TYPE,
        "etag": f'"{stable_uuid("etag", account.id)}"',
        "location": account.location,
        "sku": {"name": account.sku_name},
        "kind": account.kind,
        "tags": dict(account.tags),
    }
    if (identity := _identity_json(account, scenario.tenant_id)) is not None:
        body["identity"] = identity
    body["systemData"] = _system_data(account.created_at)
    body["properties"] = _account_properties(account)
    return body


def rai_policies_json(account: Account) -> list[dict[str, Any]]:
    """The account's RAI policies as ``RaiPolicies_List`` returns them: the built-ins, then the custom ones."""
    from aoai.preflight.checks.content_filters import BUILTIN_RAI_POLICIES

    result = []
    for name, builtin in BUILTIN_RAI_POLICIES.items():
        result.append(builtin | {"id": f"{account.id}/raiPolicies/{name}"})
    for rai in account.rai_policies:
        base = BUILTIN_RAI_POLICIES[rai.base_policy]["properties"]["contentFilters"]
        replaced = {(f["name"].lower(), f["source"]) for f in rai.filters}
        filters = [f for f in base if (f["name"].lower(), f["source"]) not in replaced] + rai.filters
        result.append(
            {
                "id": f"{account.id}/raiPolicies/{rai.name}",
                "name": rai.name,
                "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
                "properties": {
                    "mode": rai.mode,
                    "type": "UserManaged",
                    "basePolicyName": rai.base_policy,
                    "contentFilters": filters,
                },
            }
        )
    return result


def deployment_json(account: Account, d: Deployment) -> dict[str, Any]:
    props: dict[str, Any] = {
        "model": {"format": d.model_format, "name": d.model_name, "version": d.model_version},
        "provisioningState": d.provisioning_state,
    }
    if d.version_upgrade_option:
        props["versionUpgradeOption"] = d.version_upgrade_option
    if d.rai_policy_name:
        props["raiPolicyName"] = d.rai_policy_name
    props["currentCapacity"] = d.capacity
    # Azure OpenAI grants 6 requests per minute per 1,000 tokens per minute of capacity.
    props["rateLimits"] = [
        {"key": "request", "renewalPeriod": 10, "count": d.capacity},
        {"key": "token", "renewalPeriod": 60, "count": d.capacity * 1000},
    ]
    return {
        "id": f"{account.id}/deployments/{d.name}",
        "name": d.name,
        "type": f"{ACCOUNT_TYPE}/deployments",
        "sku": {"name": d.sku_name, "capacity": d.capacity},
        "systemData": _system_data(d.created_at or account.created_at),
        "properties": props,
    }


def _model_created(model: LocationModel) -> str:
    if model.created_at is not None:
        return iso(model.created_at)
    try:
        return iso(dt.datetime.strptime(model.version, "%Y-%m-%d").replace(tzinfo=dt.UTC))
    except ValueError:
        return "2023-06-13T00:00:00Z"


def _model_body(model: LocationModel) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": model.name,
        "format": model.format,
        "version": model.version,
        "capabilities": dict(model.capabilities),
    }
    if model.inference_deprecation or model.fine_tune_deprecation or model.deprecation_status:
        deprecation: dict[str, str] = {}
        if model.deprecation_status:
            deprecation["deprecationStatus"] = model.deprecation_status
        if model.fine_tune_deprecation:
            deprecation["fineTune"] = iso(model.fine_tune_deprecation)
        if model.inference_deprecation:
            deprecation["inference"] = iso(model.inference_deprecation)
        body["deprecation"] = deprecation
    body["isDefaultVersion"] = model.is_default_version
    body["lifecycleStatus"] = model.lifecycle_status
    body["maxCapacity"] = model.max_capacity
    if model.format == "OpenAI":
        body["modelCatalogAssetId"] = f"azureml://registries/azure-openai/models/{model.name}/versions/{model.version}"
    if model.replacement_model:
        replacement: dict[str, Any] = {
            "targetModelName": model.replacement_model,
            "targetModelVersion": model.replacement_version,
        }
        if model.auto_upgrade_start:
            replacement["autoUpgradeStartDate"] = iso(model.auto_upgrade_start)
        if model.upgrade_lead_time_days is not None:
            replacement["upgradeOnExpiryLeadTimeDays"] = model.upgrade_lead_time_days
        body["replacementConfig"] = replacement
    skus = []
    for sku in model.skus:
        entry: dict[str, Any] = {"name": sku.name, "usageName": sku.usage_name}
        capacity = {
            k: v
            for k, v in (
                ("default", sku.capacity_default),
                ("maximum", sku.capacity_maximum),
                ("minimum", sku.capacity_minimum),
                ("step", sku.capacity_step),
            )
            if v is not None
        }
        if capacity:
            entry["capacity"] = capacity
        if sku.deprecation_date:
            entry["deprecationDate"] = iso(sku.deprecation_date)
        skus.append(entry)
    body["skus"] = skus
    created = _model_created(model)
    body["systemData"] = {
        "createdAt": created,
        "createdBy": "Microsoft",
        "lastModifiedAt": created,
        "lastModifiedBy": "Microsoft",
    }
    return body


def location_model_json(model: LocationModel) -> dict[str, Any]:
    return {"kind": model.kind, "model": _model_body(model), "skuName": "S0"}


def account_model_json(model: LocationModel) -> dict[str, Any]:
    """``/accounts/{a}/models`` items: the model fields flattened (swagger ``AccountModel``)."""
    return _model_body(model)


def _usage_localized(name: str) -> str:
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] in ("OpenAI", "AIServices"):
        return f"Tokens Per Minute (thousands) - {'.'.join(parts[2:])} - {parts[1]}"
    return name


def usage_json(usage: Usage, *, account_level: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": {"value": usage.name, "localizedValue": usage.localized_name or _usage_localized(usage.name)},
    }
    if account_level:
        body["status"] = "Included"
    body["currentValue"] = usage.current
    body["limit"] = usage.limit
    body["unit"] = usage.unit
    return body


def model_capacity_json(subscription_id: str, cap: ModelCapacity) -> dict[str, Any]:
    return {
        "id": (
            f"/subscriptions/{subscription_id}/providers/Microsoft.CognitiveServices/locations/{cap.location}"
            f"/models/{cap.model_format}.{cap.model_name}.{cap.model_version}/skuCapacities/{cap.sku_name}"
        ),
        "type": "Microsoft.CognitiveServices/locations/models/skuCapacities",
        "name": cap.sku_name,
        "location": cap.location,
        "properties": {
            "model": {"format": cap.model_format, "name": cap.model_name, "version": cap.model_version},
            "skuName": cap.sku_name,
            "availableCapacity": cap.available_capacity,
            "availableFinetuneCapacity": cap.available_finetune_capacity,
        },
    }


def _retention() -> dict[str, Any]:
    return {"enabled": False, "days": 0}


def diagnostic_setting_json(account: Account, setting: DiagnosticSetting) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, value in (
        ("storageAccountId", setting.storage_account_id),
        ("eventHubAuthorizationRuleId", setting.event_hub_authorization_rule_id),
        ("eventHubName", setting.event_hub_name),
        ("workspaceId", setting.workspace_id),
        ("logAnalyticsDestinationType", setting.log_analytics_destination_type),
    ):
        if value is not None:
            props[key] = value
    props["metrics"] = [
        {"category": m.category, "enabled": m.enabled, "retentionPolicy": _retention()} for m in setting.metrics
    ]
    logs = []
    for log in setting.logs:
        entry: dict[str, Any] = (
            {"categoryGroup": log.category_group} if log.category_group else {"category": log.category}
        )
        entry["enabled"] = log.enabled
        entry["retentionPolicy"] = _retention()
        logs.append(entry)
    props["logs"] = logs
    return {
        # Microsoft.Insights answers with the resource URI lower-cased, as in the spec's example.
        "id": f"{account.id.lower()}/providers/microsoft.insights/diagnosticSettings/{setting.name}",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": setting.name,
        "properties": props,
    }


def diagnostic_category_json(
    account: Account, name: str, category_type: str, groups: tuple[str, ...]
) -> dict[str, Any]:
    props: dict[str, Any] = {"categoryType": category_type}
    if groups:
        props["categoryGroups"] = list(groups)
    return {
        "id": f"{account.id.lower()}/providers/microsoft.insights/diagnosticSettingsCategories/{name}",
        "type": "microsoft.insights/diagnosticSettingsCategories",
        "name": name,
        "properties": props,
    }


def subscription_json(sub: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"/subscriptions/{sub.id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub.id,
        "tenantId": sub.tenant_id,
        "displayName": sub.display_name,
        "state": sub.state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": sub.quota_id,
            "spendingLimit": "Off",
        },
    }
    if sub.tags:
        body["tags"] = dict(sub.tags)
    return body


def graph_account_row(account: Account, scenario: Scenario) -> dict[str, Any]:
    """A Resource Graph ``Resources`` row: the resource with Graph's lower-cased ``type``."""
    return {
        "id": account.id,
        "name": account.name,
        "type": ACCOUNT_TYPE.lower(),
        "tenantId": scenario.tenant_id,
        "kind": account.kind,
        "location": account.location,
        "resourceGroup": account.resource_group,
        "subscriptionId": account.subscription_id,
        "managedBy": "",
        "sku": {"name": account.sku_name},
        "plan": None,
        "properties": _account_properties(account),
        "tags": dict(account.tags),
        "identity": _identity_json(account, scenario.tenant_id),
        "zones": None,
        "extendedLocation": None,
    }


def graph_container_rows(scenario: Scenario, sub: Subscription) -> list[dict[str, Any]]:
    chain = [{"name": mg, "displayName": mg} for mg in sub.management_groups]
    chain.append({"name": sub.tenant_id, "displayName": "Tenant Root Group"})
    rows: list[dict[str, Any]] = [
        {
            "id": f"/subscriptions/{sub.id}",
            "name": sub.display_name,
            "type": "microsoft.resources/subscriptions",
            "tenantId": sub.tenant_id,
            "kind": "",
            "location": "",
            "resourceGroup": "",
            "subscriptionId": sub.id,
            "managedBy": "",
            "sku": None,
            "plan": None,
            "properties": {
                "state": sub.state,
                "subscriptionPolicies": subscription_json(sub)["subscriptionPolicies"],
                "managementGroupAncestorsChain": chain,
            },
            "tags": dict(sub.tags),
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }
    ]
    for group in sub.resource_groups:
        members = scenario.accounts_in(sub.id, group)
        rows.append(
            {
                "id": f"/subscriptions/{sub.id}/resourceGroups/{group}",
                "name": group,
                "type": "microsoft.resources/subscriptions/resourcegroups",
                "tenantId": sub.tenant_id,
                "kind": "",
                "location": members[0].location if members else "westeurope",
                "resourceGroup": group,
                "subscriptionId": sub.id,
                "managedBy": "",
                "sku": None,
                "plan": None,
                "properties": {"provisioningState": "Succeeded"},
                "tags": {},
                "identity": None,
                "zones": None,
                "extendedLocation": None,
            }
        )
    return rows


def graph_table_format(rows: list[dict[str, Any]]) -> dict[str, Any]:
    columns = list(rows[0]) if rows else []

    def kind(value: Any) -> str:
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int | float):
            return "integer" if isinstance(value, int) else "number"
        if isinstance(value, str):
            return "string"
        return "object"

    types = {c: next((kind(r[c]) for r in rows if r.get(c) is not None), "object") for c in columns}
    return {
        "columns": [{"name": c, "type": types[c]} for c in columns],
        "rows": [[r.get(c) for c in columns] for r in rows],
    }
