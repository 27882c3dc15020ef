"""The ARM subset the preflight, capacity and fleet commands read, served from a scenario.

Shapes follow the official examples of the Azure REST API specs (Microsoft.CognitiveServices,
Microsoft.Insights 2021-05-01-preview) plus the properties the swagger defines and the checks
read; docs/emulator.md lists every route, its fault name and every deliberate difference.

What a client sees, as with ARM:

- ``Authorization: Bearer <token>`` is required (401 ``AuthenticationFailed`` /
  ``InvalidAuthenticationToken``), then ``api-version`` (400 ``MissingApiVersionParameter``).
- Errors use ARM's envelope ``{"error": {"code", "message"}}`` and its codes and statuses:
  ``SubscriptionNotFound``, ``ResourceGroupNotFound``, ``ResourceNotFound``,
  ``DeploymentNotFound`` (404), ``AuthorizationFailed`` (403, where the scenario forbids a part).
- Every response carries ``x-ms-request-id``, ``x-ms-correlation-request-id`` (the client's, when
  it sent one) and ``x-ms-ratelimit-remaining-subscription-reads`` (``…-tenant-reads`` for tenant
  routes): a token bucket per subscription (250, refilled at 25/s by default), 429
  ``SubscriptionRequestsThrottled`` with ``Retry-After`` when empty — never a silent zero.
- Lists are ``{"value": [...]}``; accounts and deployments page with ``nextLink`` (``$skipToken``).
- Resource Graph (``POST /providers/Microsoft.ResourceGraph/resources``) interprets a useful
  subset of KQL (``where``, ``order by``, ``limit``/``take``/``top``); ``project`` and ``extend``
  are accepted and ignored (whole resource rows come back). Pages with ``$top``/``$skip``/``$skipToken``.

Fault injection (``aoai.emulator.faults``) runs first in every route, under the route's name
(``arm.accounts.get``, ``graph.resources``…).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aoai.emulator.faults import http_fault_response
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
    usage_name,
)

if TYPE_CHECKING:
    from aoai.emulator.server import EmulatorState

# --- api-versions ------------------------------------------------------------------------------

_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview|-privatepreview|-alpha|-beta)?$")
INSIGHTS_API_VERSIONS = ("2017-05-01-preview", "2021-05-01-preview")
GRAPH_API_VERSIONS = (
    "2019-04-01",
    "2020-04-01-preview",
    "2021-03-01",
    "2021-06-01-preview",
    "2022-10-01",
    "2024-04-01",
)
COGNITIVE_MIN_API_VERSION = "2017-04-18"
RESOURCES_MIN_API_VERSION = "2014-04-01"

# Diagnostic log categories of Microsoft.CognitiveServices/accounts: (name, type, groups).
ACCOUNT_DIAGNOSTIC_CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Audit", "Logs", ("audit", "allLogs")),
    ("RequestResponse", "Logs", ("allLogs",)),
    ("AzureOpenAIRequestUsage", "Logs", ("allLogs",)),
    ("Trace", "Logs", ("allLogs",)),
    ("AllMetrics", "Metrics", ()),
)

# The RBAC action each forbidden part would need (for AuthorizationFailed messages).
_ACTIONS = {
    "account": "Microsoft.CognitiveServices/accounts/read",
    "deployments": "Microsoft.CognitiveServices/accounts/deployments/read",
    "models": "Microsoft.CognitiveServices/accounts/models/read",
    "usages": "Microsoft.CognitiveServices/accounts/usages/read",
    "skus": "Microsoft.CognitiveServices/accounts/skus/read",
    "private_endpoint_connections": "Microsoft.CognitiveServices/accounts/privateEndpointConnections/read",
    "diagnostic_settings": "Microsoft.Insights/diagnosticSettings/read",
    "diagnostic_categories": "Microsoft.Insights/diagnosticSettingsCategories/read",
    "accounts": "Microsoft.CognitiveServices/accounts/read",
    "location_models": "Microsoft.CognitiveServices/locations/models/read",
    "location_usages": "Microsoft.CognitiveServices/locations/usages/read",
    "model_capacities": "Microsoft.CognitiveServices/modelCapacities/read",
}
CLIENT_OBJECT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "aoai-emulator-client"))


class ArmError(Exception):
    """An ARM error answer: status, code, message (and optional extra headers / details)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return JSONResponse({"error": error}, status_code=self.status, headers=self.headers)


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stable_uuid(*parts: str) -> str:
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
            rid: {"principalId": _stable_uuid("uai-principal", rid), "clientId": _stable_uuid("uai-client", rid)}
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
        "etag": f'"{_stable_uuid("etag", account.id)}"',
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


def _graph_container_rows(scenario: Scenario, sub: Subscription) -> list[dict[str, Any]]:
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


# --- throttling ---------------------------------------------------------------------------------


class _TokenBuckets:
    """ARM's read throttling: a bucket per key (subscription, or 'tenant'), refilled continuously."""

    def __init__(self, size: int, per_second: float) -> None:
        self.size = size
        self.per_second = per_second
        self._tokens: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, updated = self._tokens.get(key, (float(self.size), now))
        return min(float(self.size), tokens + (now - updated) * self.per_second)

    def peek(self, key: str) -> int:
        with self._lock:
            return int(self._level(key, time.monotonic()))

    def take(self, key: str) -> tuple[bool, int, int]:
        """(allowed, remaining after this request, seconds to wait when refused)."""
        with self._lock:
            now = time.monotonic()
            level = self._level(key, now)
            if level < 1:
                self._tokens[key] = (level, now)
                wait = math.ceil((1 - level) / self.per_second) if self.per_second > 0 else 3600
                return False, 0, max(1, wait)
            level -= 1
            self._tokens[key] = (level, now)
            return True, int(level), 0


class _GraphQuota:
    """Resource Graph's per-user quota: N queries per sliding window (15 per 5 s by default)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: list[float] = []
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the window resets)."""
        with self._lock:
            now = time.monotonic()
            self._times = [t for t in self._times if now - t < self.window]
            if len(self._times) >= self.limit:
                return False, 0, self.window - (now - self._times[0])
            self._times.append(now)
            return True, self.limit - len(self._times), self.window - (now - self._times[0])


def _hms(seconds: float) -> str:
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


# --- paging -------------------------------------------------------------------------------------


def _encode_token(offset: int, size: int) -> str:
    raw = json.dumps({"o": offset, "s": size}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, size = data["o"], data["s"]
        if isinstance(offset, int) and isinstance(size, int) and offset >= 0 and size > 0:
            return offset, size
    except (ValueError, KeyError, TypeError):
        pass
    raise ArmError(400, "InvalidSkipToken", f"The skip token '{token[:40]}' is invalid.")


# --- a tiny KQL interpreter for Resource Graph ---------------------------------------------------


class KqlError(ValueError):
    pass


_KQL_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<str>@?'(?:[^'\\]|\\.)*'|@?"(?:[^"\\]|\\.)*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op>!in~|in~|!in\b|!contains_cs\b|!contains\b|!has_cs\b|!has\b|!startswith\b|!endswith\b|=~|!~|==|!=|<=|>=|<|>|=)
  | (?P<kw>project-away|project-keep|project-rename|project-reorder|mv-expand|mv-apply)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[|().,\[\]])
    """,
    re.X,
)
_WORD_OPS = {"in", "contains", "contains_cs", "has", "has_cs", "startswith", "endswith", "startswith_cs", "endswith_cs"}
_IGNORED_OPERATORS = {"project", "extend", "project-away", "project-keep", "project-rename", "project-reorder"}
_TABULAR = {"where", "order", "sort", "limit", "take", "top", *_IGNORED_OPERATORS}
_FUNCTIONS = {
    "isnotempty",
    "isempty",
    "isnull",
    "isnotnull",
    "tolower",
    "toupper",
    "tostring",
    "tobool",
    "toint",
    "tolong",
    "array_length",
}

Row = dict[str, Any]
Expr = Callable[[Row], Any]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _lookup(row: Any, path: list[str | int]) -> Any:
    value = row
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and -len(value) <= step < len(value) else None
        elif isinstance(value, dict):
            if step in value:
                value = value[step]
            else:
                value = next((v for k, v in value.items() if k.lower() == step.lower()), None)
        else:
            return None
        if value is None:
            return None
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    negate = op.startswith("!") and op not in ("!=", "!~")
    base = op[1:] if negate else op
    if base in ("in", "in~"):
        items = right if isinstance(right, list) else [right]
        fold = base == "in~"
        lt = _text(left).lower() if fold else _text(left)
        found = any(lt == (_text(i).lower() if fold else _text(i)) for i in items)
        return found != negate
    if base in ("==", "!=", "=~", "!~"):
        ln, rn = _number(left), _number(right)
        if ln is not None and rn is not None and not isinstance(left, str) and not isinstance(right, str):
            equal = ln == rn
        elif base in ("=~", "!~"):
            equal = _text(left).lower() == _text(right).lower()
        else:
            equal = _text(left) == _text(right)
        return equal if base in ("==", "=~") else not equal
    if base in ("<", "<=", ">", ">="):
        ln, rn = _number(left), _number(right)
        a: Any = ln if ln is not None and rn is not None else _text(left)
        b: Any = rn if ln is not None and rn is not None else _text(right)
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[base])
    cs = base.endswith("_cs")
    word = base.removesuffix("_cs")
    lt, rt = _text(left), _text(right)
    if not cs:
        lt, rt = lt.lower(), rt.lower()
    if word == "contains":
        result = rt in lt
    elif word == "has":
        result = re.search(rf"(?<![A-Za-z0-9]){re.escape(rt)}(?![A-Za-z0-9])", lt) is not None
    elif word == "startswith":
        result = lt.startswith(rt)
    elif word == "endswith":
        result = lt.endswith(rt)
    else:  # pragma: no cover - the parser only builds known operators
        raise KqlError(f"unknown operator {op}")
    return result != negate


def _call(name: str, value: Any) -> Any:
    if name == "isnotempty":
        return _text(value) != ""
    if name == "isempty":
        return _text(value) == ""
    if name == "isnull":
        return value is None
    if name == "isnotnull":
        return value is not None
    if name == "tolower":
        return _text(value).lower()
    if name == "toupper":
        return _text(value).upper()
    if name == "tostring":
        return _text(value)
    if name == "tobool":
        return _text(value).lower() == "true"
    if name in ("toint", "tolong"):
        number = _number(value)
        return int(number) if number is not None else None
    if name == "array_length":
        return len(value) if isinstance(value, list) else None
    raise KqlError(f"function {name}() is not supported")  # pragma: no cover


@dataclass
class GraphPlan:
    table: str = "resources"
    filters: list[Expr] = field(default_factory=list)
    order: list[tuple[list[str | int], bool]] = field(default_factory=list)  # (path, descending)
    limit: int | None = None

    def run(self, rows: list[Row]) -> list[Row]:
        out = [r for r in rows if all(bool(f(r)) for f in self.filters)]
        for path, descending in reversed(self.order):
            present = [r for r in out if _lookup(r, path) is not None]
            missing = [r for r in out if _lookup(r, path) is None]

            def key(row: Row, path: list[str | int] = path) -> tuple[int, Any]:
                return _sort_key(_lookup(row, path))

            present.sort(key=key, reverse=descending)
            out = present + missing
        if self.limit is not None:
            out = out[: self.limit]
        return out


def _sort_key(value: Any) -> tuple[int, Any]:
    number = _number(value)
    if number is not None and not isinstance(value, str):
        return (0, number)
    return (1, _text(value).lower())


class KqlParser:
    """Parses the subset of KQL the emulator's Resource Graph understands (see docs/emulator.md)."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _KQL_TOKEN.match(text, pos)
            if m is None:
                raise KqlError(f"unexpected character {text[pos]!r} at position {pos}")
            pos = m.end()
            kind = m.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, m.group()))
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text.lower() != value:
            raise KqlError(f"expected {value!r}, found {text or 'end of query'!r}")

    def parse(self) -> GraphPlan:
        plan = GraphPlan()
        kind, text = self.peek()
        if kind == "ident" and text.lower() not in _TABULAR:
            plan.table = self.take()[1].lower()
            if self.peek()[0] != "end" and self.peek()[1] != "|":
                raise KqlError(f"expected '|' after the table name, found {self.peek()[1]!r}")
        first = self.peek()[0] != "end" and self.peek()[1] != "|"
        while self.peek()[0] != "end":
            if not first:
                self.expect("|")
            first = False
            kind, op = self.take()
            op = op.lower()
            if op == "where":
                plan.filters.append(self.expression())
            elif op in _IGNORED_OPERATORS:
                self.skip_operator()
            elif op in ("order", "sort"):
                self.expect("by")
                plan.order.extend(self.sort_list())
            elif op in ("limit", "take"):
                plan.limit = self.count()
            elif op == "top":
                plan.limit = self.count()
                self.expect("by")
                plan.order = self.sort_list()
            else:
                raise KqlError(
                    f"the emulator's Resource Graph does not support the '{op}' operator "
                    "(it supports where, order/sort by, limit/take/top; project and extend are ignored)"
                )
        return plan

    def skip_operator(self) -> None:
        depth = 0
        while self.peek()[0] != "end":
            text = self.peek()[1]
            if text in ("(", "["):
                depth += 1
            elif text in (")", "]"):
                depth -= 1
            elif text == "|" and depth == 0:
                return
            self.take()

    def count(self) -> int:
        kind, text = self.take()
        if kind != "num" or not text.isdigit():
            raise KqlError(f"expected a row count, found {text or 'end of query'!r}")
        return int(text)

    def sort_list(self) -> list[tuple[list[str | int], bool]]:
        out = []
        while True:
            path = self.path()
            descending = True  # KQL sorts descending unless told otherwise
            if self.peek()[1].lower() in ("asc", "desc"):
                descending = self.take()[1].lower() == "desc"
            if self.peek()[1].lower() == "nulls":
                self.take()
                self.take()
            out.append((path, descending))
            if self.peek()[1] != ",":
                return out
            self.take()

    def path(self) -> list[str | int]:
        kind, text = self.take()
        if kind != "ident":
            raise KqlError(f"expected a column name, found {text or 'end of query'!r}")
        path: list[str | int] = [text]
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                kind, text = self.take()
                if kind != "ident":
                    raise KqlError(f"expected a property name after '.', found {text!r}")
                path.append(text)
            else:
                kind, text = self.take()
                if kind == "str":
                    path.append(_unquote(text))
                elif kind == "num" and text.lstrip("-").isdigit():
                    path.append(int(text))
                else:
                    raise KqlError(f"expected a string or index inside [], found {text!r}")
                self.expect("]")
        return path

    def expression(self) -> Expr:
        left = self.conjunction()
        while self.peek()[1].lower() == "or":
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: bool(a(r)) or bool(b(r)))(left, right)
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.peek()[1].lower() == "and":
            self.take()
            right = self.negation()
            left = (lambda a, b: lambda r: bool(a(r)) and bool(b(r)))(left, right)
        return left

    def negation(self) -> Expr:
        if self.peek()[1].lower() == "not" and self.peek(1)[1] == "(":
            self.take()
            self.take()
            inner = self.expression()
            self.expect(")")
            return lambda r: not bool(inner(r))
        if self.peek()[1] == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.value()
        kind, text = self.peek()
        op = text.lower()
        if kind == "op" or (kind == "ident" and op in _WORD_OPS):
            self.take()
            if op == "=":
                raise KqlError("use '==' (or '=~') to compare, not '='")
            if op in ("in", "in~", "!in", "!in~"):
                self.expect("(")
                items = [self.value()]
                while self.peek()[1] == ",":
                    self.take()
                    items.append(self.value())
                self.expect(")")
                return lambda r: _compare(op, left(r), [item(r) for item in items])
            right = self.value()
            return lambda r: _compare(op, left(r), right(r))
        return left

    def value(self) -> Expr:
        kind, text = self.take()
        if kind == "str":
            literal = _unquote(text)
            return lambda r: literal
        if kind == "num":
            number = float(text) if "." in text else int(text)
            return lambda r: number
        if kind == "ident":
            lowered = text.lower()
            if lowered in ("true", "false"):
                flag = lowered == "true"
                return lambda r: flag
            if lowered == "null":
                return lambda r: None
            if self.peek()[1] == "(":
                if lowered not in _FUNCTIONS:
                    raise KqlError(f"the emulator's Resource Graph does not support the function {text}()")
                self.take()
                arg = self.value()
                self.expect(")")
                return lambda r: _call(lowered, arg(r))
            self.i -= 1
            path = self.path()
            return lambda r: _lookup(r, path)
        raise KqlError(f"unexpected {text or 'end of query'!r}")


def _unquote(token: str) -> str:
    verbatim = token.startswith("@")
    body = token[2:-1] if verbatim else token[1:-1]
    if verbatim:
        return body
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_kql(query: str) -> GraphPlan:
    return KqlParser(query).parse()


# --- routing ------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    request: Request
    params: dict[str, str]
    api_version: str
    body: Any = None


Handler = Callable[[_Ctx], Response]

_SEG = r"(?P<{}>[^/]+)"
_SUB = "/subscriptions/" + _SEG.format("sub")
_RG = _SUB + "/resourcegroups/" + _SEG.format("rg")
_CS = "/providers/microsoft.cognitiveservices"
_ACC = _RG + _CS + "/accounts/" + _SEG.format("account")
_LOC = _SUB + _CS + "/locations/" + _SEG.format("location")
_INSIGHTS = _ACC + "/providers/microsoft.insights"


@dataclass
class _Spec:
    name: str
    pattern: re.Pattern[str]
    namespace: str  # cognitive | insights | graph | resources
    method: str
    handler: Handler


class ArmApi:
    """The ARM routes over one ``EmulatorState`` (its scenario, faults, token and throttling)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        limits = state.scenario.limits
        self.reads = _TokenBuckets(limits.subscription_reads, limits.subscription_reads_per_second)
        self.graph_quota = _GraphQuota(limits.graph_queries, limits.graph_window_seconds)
        table: list[tuple[str, str, str, str, Handler]] = [
            ("arm.subscriptions.list", "/subscriptions", "resources", "GET", self.subscriptions_list),
            ("arm.subscriptions.get", _SUB, "resources", "GET", self.subscriptions_get),
            ("arm.accounts.list", _SUB + _CS + "/accounts", "cognitive", "GET", self.accounts_list),
            ("arm.accounts.list_by_resource_group", _RG + _CS + "/accounts", "cognitive", "GET", self.accounts_list),
            ("arm.accounts.get", _ACC, "cognitive", "GET", self.accounts_get),
            ("arm.deployments.list", _ACC + "/deployments", "cognitive", "GET", self.deployments_list),
            (
                "arm.deployments.get",
                _ACC + "/deployments/" + _SEG.format("deployment"),
                "cognitive",
                "GET",
                self.deployments_get,
            ),
            ("arm.models.list", _ACC + "/models", "cognitive", "GET", self.account_models_list),
            ("arm.account_usages.list", _ACC + "/usages", "cognitive", "GET", self.account_usages_list),
            ("arm.skus.list", _ACC + "/skus", "cognitive", "GET", self.skus_list),
            (
                "arm.private_endpoint_connections.list",
                _ACC + "/privateendpointconnections",
                "cognitive",
                "GET",
                self.pec_list,
            ),
            (
                "arm.private_endpoint_connections.get",
                _ACC + "/privateendpointconnections/" + _SEG.format("pec"),
                "cognitive",
                "GET",
                self.pec_get,
            ),
            (
                "arm.diagnostic_settings.list",
                _INSIGHTS + "/diagnosticsettings",
                "insights",
                "GET",
                self.diagnostic_settings_list,
            ),
            (
                "arm.diagnostic_settings.get",
                _INSIGHTS + "/diagnosticsettings/" + _SEG.format("setting"),
                "insights",
                "GET",
                self.diagnostic_settings_get,
            ),
            (
                "arm.diagnostic_categories.list",
                _INSIGHTS + "/diagnosticsettingscategories",
                "insights",
                "GET",
                self.diagnostic_categories_list,
            ),
            ("arm.location_models.list", _LOC + "/models", "cognitive", "GET", self.location_models_list),
            ("arm.usages.list", _LOC + "/usages", "cognitive", "GET", self.location_usages_list),
            ("arm.model_capacities.list", _SUB + _CS + "/modelcapacities", "cognitive", "GET", self.capacities_list),
            (
                "arm.location_model_capacities.list",
                _LOC + "/modelcapacities",
                "cognitive",
                "GET",
                self.capacities_list,
            ),
            ("graph.resources", "/providers/microsoft.resourcegraph/resources", "graph", "POST", self.graph_resources),
        ]
        self.specs = [_Spec(n, re.compile(p, re.I), ns, m, h) for n, p, ns, m, h in table]

    def routes(self) -> list[BaseRoute]:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [
            Route("/subscriptions{rest:path}", self.dispatch, methods=methods),
            Route("/providers{rest:path}", self.dispatch, methods=methods),
        ]

    # --- the pipeline every request goes through ------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        path = re.sub("/{2,}", "/", request.url.path).rstrip("/") or "/"
        spec = match = None
        for candidate in self.specs:
            if (m := candidate.pattern.fullmatch(path)) is not None:
                spec, match = candidate, m
                break
        throttle_key = "tenant"
        if (sub_match := re.match(r"/subscriptions/([^/]+)", path, re.I)) is not None:
            throttle_key = sub_match.group(1).lower()
        if spec is None or match is None:
            response = self._unknown_route(request, path)
            return self._finish(request, response, throttle_key)
        hits = self.state.faults.take(spec.name)
        if (fault := await http_fault_response(hits, spec.name)) is not None:
            return self._finish(request, fault, throttle_key)
        extra_headers: dict[str, str] = {}
        try:
            if request.method != spec.method and not (request.method == "HEAD" and spec.method == "GET"):
                raise ArmError(
                    405,
                    "MethodNotAllowed",
                    f"The aoai emulator serves a read-only subset of ARM; {request.method} {path} is not supported.",
                )
            self._authenticate(request)
            version = self._api_version(request, spec.namespace, path)
            body: Any = None
            if spec.namespace == "graph":
                extra_headers = self._graph_throttle()
                raw = await request.body()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    raise _graph_bad_request("The request content is not valid JSON.") from None
            else:
                self._throttle(throttle_key)
            params = {k: v for k, v in match.groupdict().items() if v is not None}
            response = spec.handler(_Ctx(request, params, version, body))
        except ArmError as exc:
            response = exc.response()
        for key, value in extra_headers.items():
            response.headers.setdefault(key, value)
        return self._finish(request, response, throttle_key)

    def _finish(self, request: Request, response: Response, throttle_key: str) -> Response:
        headers = response.headers
        if "x-ms-request-id" not in headers:
            headers["x-ms-request-id"] = str(uuid.uuid4())
        correlation = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        headers["x-ms-correlation-request-id"] = correlation
        if (client_id := request.headers.get("x-ms-client-request-id")) is not None:
            headers["x-ms-client-request-id"] = client_id
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        headers["x-ms-routing-request-id"] = f"SWEDENCENTRAL:{stamp}:{headers['x-ms-request-id']}"
        name = "tenant" if throttle_key == "tenant" else "subscription"
        header = f"x-ms-ratelimit-remaining-{name}-reads"
        if header not in headers:
            headers[header] = str(self.reads.peek(throttle_key))
        headers.setdefault("cache-control", "no-cache")
        return response

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization")
        challenge = (
            f'Bearer authorization_uri="https://login.microsoftonline.com/{self.scenario.tenant_id}", '
            'error="invalid_token", error_description="{}"'
        )
        if header is None:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={
                    "www-authenticate": challenge.format(
                        "The authentication failed because of missing 'Authorization' header."
                    )
                },
            )
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                headers={"www-authenticate": challenge.format("The access token is missing or malformed.")},
            )
        if not hmac.compare_digest(value.strip().encode(), self.state.access_token.encode()):
            raise ArmError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                headers={"www-authenticate": challenge.format("The access token is invalid.")},
            )

    def _api_version(self, request: Request, namespace: str, path: str) -> str:
        version = request.query_params.get("api-version")
        if version is None or version == "":
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        known = {"insights": INSIGHTS_API_VERSIONS, "graph": GRAPH_API_VERSIONS}.get(namespace)
        m = _API_VERSION.match(version)
        if m is None:
            listed = ", ".join(known) if known else "a date such as 2025-06-01"
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions are '{listed}'.",
            )
        minimum = {"cognitive": COGNITIVE_MIN_API_VERSION, "resources": RESOURCES_MIN_API_VERSION}.get(namespace)
        if (known is not None and version not in known) or (minimum is not None and m.group(1) < minimum):
            kind = {
                "insights": "diagnosticSettings",
                "graph": "resources",
                "resources": "subscriptions",
            }.get(namespace, "accounts")
            listed = ", ".join(known) if known else f"{minimum} and later"
            raise ArmError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location 'global' and API version '{version}' for "
                f"type '{kind}'. The supported api-versions are '{listed}'.",
            )
        return version

    def _throttle(self, key: str) -> None:
        allowed, _remaining, wait = self.reads.take(key)
        header = f"x-ms-ratelimit-remaining-{'tenant' if key == 'tenant' else 'subscription'}-reads"
        if not allowed:
            scope = "tenant" if key == "tenant" else f"subscription '{key}'"
            raise ArmError(
                429,
                "SubscriptionRequestsThrottled" if key != "tenant" else "TenantRequestsThrottled",
                f"Number of 'read' requests for {scope} actor '{CLIENT_OBJECT_ID}' exceeded. Please try again "
                f"after '{wait}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
                headers={"retry-after": str(wait), header: "0"},
            )

    def _graph_throttle(self) -> dict[str, str]:
        allowed, remaining, resets = self.graph_quota.take()
        if not allowed:
            raise ArmError(
                429,
                "RateLimiting",
                "Please provide below info when asking for support: timestamp = "
                f"{iso(dt.datetime.now(dt.UTC))}, correlationId = {uuid.uuid4()}.",
                headers={
                    "retry-after": str(max(1, math.ceil(resets))),
                    "x-ms-user-quota-remaining": "0",
                    "x-ms-user-quota-resets-after": _hms(resets),
                },
                details=[
                    {
                        "code": "RateLimiting",
                        "message": "Client application has been throttled and should not attempt to repeat the "
                        "request until an amount of time has elapsed. Please see "
                        "https://aka.ms/resourcegraph-throttling for help.",
                    }
                ],
            )
        return {"x-ms-user-quota-remaining": str(remaining), "x-ms-user-quota-resets-after": _hms(resets)}

    def _unknown_route(self, request: Request, path: str) -> Response:
        return ArmError(
            404,
            "InvalidResourceType",
            f"The resource type for '{request.method} {path}' could not be found: the aoai emulator serves only the "
            "ARM subset listed in docs/emulator.md.",
        ).response()

    # --- lookups ---------------------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    def _subscription(self, ctx: _Ctx) -> Subscription:
        sub = self.scenario.subscription(ctx.params["sub"])
        if sub is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
        return sub

    def _resource_group(self, ctx: _Ctx) -> str:
        sub = self._subscription(ctx)
        rg = ctx.params["rg"]
        if not self.scenario.has_resource_group(sub.id, rg):
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return rg

    def _account(self, ctx: _Ctx, part: str) -> Account:
        sub = self._subscription(ctx)
        rg = self._resource_group(ctx)
        account = self.scenario.account(sub.id, rg, ctx.params["account"])
        if account is None:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource '{ACCOUNT_TYPE}/{ctx.params['account']}' under resource group '{rg}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        if part in account.forbidden or "account" in account.forbidden:
            denied = part if part in account.forbidden else "account"
            raise _forbidden(_ACTIONS[denied], account.id)
        return account

    def _forbid_subscription_part(self, sub: Subscription, part: str, action_key: str | None = None) -> None:
        if part in sub.forbidden:
            raise _forbidden(_ACTIONS[action_key or part], f"/subscriptions/{sub.id}")

    def _page(self, ctx: _Ctx, items: list[Any], size: int) -> dict[str, Any]:
        token = ctx.request.query_params.get("$skipToken")
        offset = _decode_token(token)[0] if token else 0
        body: dict[str, Any] = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            query = [
                f"{quote(k, safe='$-')}={quote(v, safe='')}"
                for k, v in ctx.request.query_params.multi_items()
                if k != "$skipToken"
            ]
            query.append(f"$skipToken={_encode_token(offset + size, size)}")
            base = str(ctx.request.base_url).rstrip("/")
            body["nextLink"] = f"{base}{ctx.request.url.path}?{'&'.join(query)}"
        return body

    # --- handlers --------------------------------------------------------------------------------

    def subscriptions_list(self, ctx: _Ctx) -> Response:
        return JSONResponse({"value": [subscription_json(s) for s in self.scenario.subscriptions]})

    def subscriptions_get(self, ctx: _Ctx) -> Response:
        return JSONResponse(subscription_json(self._subscription(ctx)))

    def accounts_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        rg = self._resource_group(ctx) if "rg" in ctx.params else None
        self._forbid_subscription_part(sub, "accounts")
        accounts = self.scenario.accounts_in(sub.id, rg)
        items = [account_json(a, self.scenario) for a in accounts if "account" not in a.forbidden]
        return JSONResponse(self._page(ctx, items, self.scenario.limits.accounts_page_size))

    def accounts_get(self, ctx: _Ctx) -> Response:
        return JSONResponse(account_json(self._account(ctx, "account"), self.scenario))

    def deployments_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "deployments")
        items = [deployment_json(account, d) for d in account.deployments]
        return JSONResponse(self._page(ctx, items, self.scenario.limits.deployments_page_size))

    def deployments_get(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "deployments")
        wanted = ctx.params["deployment"].lower()
        for d in account.deployments:
            if d.name.lower() == wanted:
                return JSONResponse(deployment_json(account, d))
        name = ctx.params["deployment"]
        raise ArmError(404, "DeploymentNotFound", f"The specified deployment '{name}' does not exist.")

    def account_models_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "models")
        models = [
            account_model_json(m)
            for m in self.scenario.models_in(account.location)
            if account.kind == "AIServices" or m.kind == account.kind
        ]
        return JSONResponse({"value": models})

    def account_usages_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "usages")
        limits = {u.name: u.limit for u in self.scenario.usages_in(account.subscription_id, account.location)}
        used: dict[str, int] = {}
        for d in account.deployments:
            key = usage_name(d.model_format, d.sku_name, d.model_name)
            used[key] = used.get(key, 0) + d.capacity
        items = [
            usage_json(
                Usage(account.subscription_id, account.location, key, limits.get(key, 0), current),
                account_level=True,
            )
            for key, current in used.items()
        ]
        return JSONResponse({"value": items})

    def skus_list(self, ctx: _Ctx) -> Response:
        self._account(ctx, "skus")
        return JSONResponse({"value": [{"resourceType": ACCOUNT_TYPE, "sku": {"name": "S0", "tier": "Standard"}}]})

    def pec_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "private_endpoint_connections")
        return JSONResponse(
            {"value": [private_endpoint_connection_json(account, p) for p in account.private_endpoint_connections]}
        )

    def pec_get(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "private_endpoint_connections")
        for p in account.private_endpoint_connections:
            if p.name.lower() == ctx.params["pec"].lower():
                return JSONResponse(private_endpoint_connection_json(account, p))
        raise ArmError(
            404,
            "PrivateEndpointConnectionNotFound",
            f"Private endpoint connection '{ctx.params['pec']}' was not found on account '{account.name}'.",
        )

    def diagnostic_settings_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "diagnostic_settings")
        return JSONResponse({"value": [diagnostic_setting_json(account, s) for s in account.diagnostic_settings]})

    def diagnostic_settings_get(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "diagnostic_settings")
        for s in account.diagnostic_settings:
            if s.name.lower() == ctx.params["setting"].lower():
                return JSONResponse(diagnostic_setting_json(account, s))
        raise ArmError(404, "ResourceNotFound", f"The diagnostic setting '{ctx.params['setting']}' doesn't exist.")

    def diagnostic_categories_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "diagnostic_categories")
        return JSONResponse(
            {"value": [diagnostic_category_json(account, *category) for category in ACCOUNT_DIAGNOSTIC_CATEGORIES]}
        )

    def location_models_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        self._forbid_subscription_part(sub, "location_models")
        models = self.scenario.models_in(ctx.params["location"])
        return JSONResponse({"value": [location_model_json(m) for m in models]})

    def location_usages_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        self._forbid_subscription_part(sub, "usages", "location_usages")
        usages = self.scenario.usages_in(sub.id, ctx.params["location"])
        return JSONResponse({"value": [usage_json(u) for u in usages]})

    def capacities_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        self._forbid_subscription_part(sub, "model_capacities")
        query = ctx.request.query_params
        missing = [k for k in ("modelFormat", "modelName", "modelVersion") if not query.get(k)]
        if missing:
            raise ArmError(400, "BadRequest", f"The query parameter '{missing[0]}' is required.")
        location = ctx.params.get("location")
        capacities = self.scenario.capacities_for(
            query["modelFormat"], query["modelName"], query["modelVersion"], location
        )
        return JSONResponse({"value": [model_capacity_json(sub.id, c) for c in capacities]})

    def graph_resources(self, ctx: _Ctx) -> Response:
        body = ctx.body
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
            raise _graph_bad_request("The request body must be a JSON object with a non-empty 'query' string.")
        subscriptions = body.get("subscriptions")
        groups = body.get("managementGroups")
        for key, value in (("subscriptions", subscriptions), ("managementGroups", groups)):
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                raise _graph_bad_request(f"'{key}' must be a list of strings.")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise _graph_bad_request("'options' must be an object.")
        top, skip, token = options.get("$top"), options.get("$skip"), options.get("$skipToken")
        if top is not None and (not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 1000):
            raise _graph_bad_request("'$top' must be a whole number from 1 to 1000.")
        if skip is not None and (not isinstance(skip, int) or isinstance(skip, bool) or skip < 0):
            raise _graph_bad_request("'$skip' must be a whole number, 0 or more.")
        if token is not None and not isinstance(token, str):
            raise _graph_bad_request("'$skipToken' must be a string.")
        default_format = "objectArray" if ctx.api_version >= "2021-03-01" else "table"
        result_format = options.get("resultFormat") or default_format
        if result_format not in ("objectArray", "table"):
            raise _graph_bad_request("'resultFormat' must be 'objectArray' or 'table'.")
        try:
            plan = parse_kql(body["query"])
        except KqlError as exc:
            raise _graph_bad_request(f"Query is invalid: {exc}.", invalid_query=True) from None

        rows = self._graph_rows(plan.table, subscriptions, groups)
        matched = plan.run(rows)
        if token:
            offset, size = _decode_token(token)
            size = top or size
        else:
            offset, size = skip or 0, top or 100
        page = matched[offset : offset + size]
        result: dict[str, Any] = {
            "totalRecords": len(matched),
            "count": len(page),
            "resultTruncated": "false",
        }
        if offset + size < len(matched):
            result["$skipToken"] = _encode_token(offset + size, size)
        result["data"] = _table_format(page) if result_format == "table" else page
        result["facets"] = []
        return JSONResponse(result)

    def _graph_rows(self, table: str, subscriptions: list[str] | None, groups: list[str] | None) -> list[Row]:
        scope = [s for s in self.scenario.subscriptions if "resource_graph" not in s.forbidden]
        if subscriptions:
            wanted = {s.lower() for s in subscriptions}
            scope = [s for s in scope if s.id.lower() in wanted]
        if groups:
            wanted_groups = {g.lower() for g in groups}
            scope = [
                s
                for s in scope
                if s.tenant_id.lower() in wanted_groups or wanted_groups & {g.lower() for g in s.management_groups}
            ]
        if table == "resources":
            return [
                graph_account_row(a, self.scenario)
                for sub in scope
                for a in self.scenario.accounts_in(sub.id)
                if "account" not in a.forbidden
            ]
        if table == "resourcecontainers":
            return [row for sub in scope for row in _graph_container_rows(self.scenario, sub)]
        return []  # a real Resource Graph table the emulator holds nothing for


def _table_format(rows: list[Row]) -> dict[str, Any]:
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


def _graph_bad_request(message: str, *, invalid_query: bool = False) -> ArmError:
    detail = {"code": "InvalidQuery" if invalid_query else "BadRequest", "message": message}
    return ArmError(
        400,
        "BadRequest",
        "Please provide below info when asking for support: timestamp = "
        f"{iso(dt.datetime.now(dt.UTC))}, correlationId = {uuid.uuid4()}.",
        details=[detail],
    )


def _forbidden(action: str, scope: str) -> ArmError:
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{CLIENT_OBJECT_ID}' with object id '{CLIENT_OBJECT_ID}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
        "refresh your credentials.",
    )


def routes(state: EmulatorState) -> list[BaseRoute]:
    return ArmApi(state).routes()


__all__ = [
    "ArmApi",
    "ArmError",
    "KqlError",
    "account_json",
    "deployment_json",
    "diagnostic_setting_json",
    "graph_account_row",
    "location_model_json",
    "parse_kql",
    "routes",
]
