"""Terraform plan JSON (``terraform show -json tfplan``) -> ``PlannedResource`` items.

Reads ``resource_changes[]`` (managed resources only) of these types, mapping azurerm attribute
names to the ARM body the checks read (the provider's own create code is the mapping's source,
see docs/plan.md):

- ``azurerm_cognitive_account`` / ``azurerm_ai_services`` (the latter spells the two switches
  ``local_authentication_enabled`` and ``public_network_access``);
- ``azurerm_cognitive_deployment`` (``model``/``sku`` blocks; the 3.x ``scale`` block too);
- ``azurerm_monitor_diagnostic_setting`` and ``azurerm_private_endpoint`` on those accounts;
- ``azurerm_cognitive_account_customer_managed_key``;
- ``azapi_resource`` whose ``type`` is one of the same ARM types (``body`` is the ARM body).

``change.after_unknown`` marks values known only after apply: their ARM paths are listed as
unknown. A child whose account id is unknown (the account is created by the same plan) is tied
to it through ``configuration`` (the reference in ``cognitive_account_id`` and friends).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from aoai.errors import UsageError
from aoai.preflight.plan.model import (
    ACCOUNT_TYPE,
    DEPLOYMENT_TYPE,
    DIAGNOSTIC_TYPE,
    OPENAI_KINDS,
    PRIVATE_ENDPOINT_TYPE,
    WHOLE_BODY,
    AccountRef,
    Action,
    Kind,
    Plan,
    PlannedResource,
    drop_path,
)

SUPPORTED_MAJOR = ("0", "1")
ACCOUNT_TYPES = ("azurerm_cognitive_account", "azurerm_ai_services")
DEPLOYMENT_TYPES = ("azurerm_cognitive_deployment",)
RELEVANT_TYPES = (
    *ACCOUNT_TYPES,
    *DEPLOYMENT_TYPES,
    "azurerm_monitor_diagnostic_setting",
    "azurerm_private_endpoint",
    "azurerm_cognitive_account_customer_managed_key",
    "azapi_resource",
)
_ACCOUNT_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.CognitiveServices/accounts/[^/]+$", re.I
)
_RG_ID = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/?$", re.I)

# azurerm attribute -> ARM path (the whole attribute; nested blocks map as a whole).
_ACCOUNT_PATHS = {
    "name": "name",
    "location": "location",
    "kind": "kind",
    "sku_name": "sku.name",
    "tags": "tags",
    "public_network_access_enabled": "properties.publicNetworkAccess",
    "public_network_access": "properties.publicNetworkAccess",
    "local_auth_enabled": "properties.disableLocalAuth",
    "local_authentication_enabled": "properties.disableLocalAuth",
    "custom_subdomain_name": "properties.customSubDomainName",
    "network_acls": "properties.networkAcls",
    "outbound_network_access_restricted": "properties.restrictOutboundNetworkAccess",
    "outbound_network_access_restrited": "properties.restrictOutboundNetworkAccess",  # old provider typo
    "fqdns": "properties.allowedFqdnList",
    "identity": "identity",
    "customer_managed_key": "properties.encryption",
    "id": "id",
}
_DEPLOYMENT_PATHS = {
    "name": "name",
    "model": "properties.model",
    "sku": "sku",
    "scale": "sku",
    "version_upgrade_option": "properties.versionUpgradeOption",
    "rai_policy_name": "properties.raiPolicyName",
    "dynamic_throttling_enabled": "properties.dynamicThrottlingEnabled",
    "id": "id",
}
_BLOCK_FIELDS = {  # nested block attributes mapped one by one (so one unknown field stays narrow)
    "model": {"name": "name", "version": "version", "format": "format"},
    "sku": {"name": "name", "capacity": "capacity", "tier": "tier", "size": "size", "family": "family"},
    "scale": {"type": "name", "capacity": "capacity"},
    "identity": {"type": "type", "identity_ids": "userAssignedIdentities"},  # principal_id, tenant_id: outputs
}
_DIAGNOSTIC_PATHS = {
    "log_analytics_workspace_id": "properties.workspaceId",
    "storage_account_id": "properties.storageAccountId",
    "eventhub_authorization_rule_id": "properties.eventHubAuthorizationRuleId",
    "partner_solution_id": "properties.marketplacePartnerId",
    "enabled_log": "properties.logs",
    "log": "properties.logs",
    "metric": "properties.metrics",
    "enabled_metric": "properties.metrics",
}


def is_plan(document: Any) -> bool:
    return isinstance(document, dict) and (
        "resource_changes" in document or ("format_version" in document and "terraform_version" in document)
    )


def _actions(raw: Any, address: str) -> Action | None:
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw) or not raw:
        raise UsageError(f"resource change {address}: `change.actions` must be a non-empty list of strings")
    found = set(raw)
    if found == {"read"}:
        return None  # a data source read: not a change
    if "delete" in found and "create" in found:
        return Action.REPLACE
    for name, action in (("create", Action.CREATE), ("delete", Action.DELETE), ("update", Action.UPDATE)):
        if name in found:
            return action
    if found == {"no-op"}:
        return Action.NO_OP
    raise UsageError(f"resource change {address}: unknown actions {raw!r}")


def _unknown_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if value is True:
        yield path
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _unknown_leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _unknown_leaves(child, (*path, index))


def _arm_unknowns(after_unknown: Any, paths: dict[str, str]) -> list[str]:
    """ARM paths of the attributes ``after_unknown`` marks (attributes the checks do not read are dropped)."""
    if after_unknown is True:
        return [WHOLE_BODY]
    found: set[str] = set()
    for leaf in _unknown_leaves(after_unknown):
        if not leaf or leaf[0] not in paths:
            continue
        arm = paths[leaf[0]]
        fields = _BLOCK_FIELDS.get(str(leaf[0]))
        sub = next((p for p in leaf[1:] if isinstance(p, str)), None)
        if fields and sub is not None:
            if sub not in fields:
                continue  # an attribute the provider only exports (identity.principal_id)
            arm = f"{arm}.{fields[sub]}"
        found.add(arm)
    return sorted(found)


def _block(value: Any) -> dict[str, Any] | None:
    """A single nested block (``[{…}]`` in plan JSON) as an object; None when absent or empty."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return dict(value[0])
    if isinstance(value, dict):
        return dict(value)
    return None


def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _account_body(after: dict[str, Any], rtype: str) -> dict[str, Any]:
    body: dict[str, Any] = {"type": ACCOUNT_TYPE}
    for key in ("id", "name", "location", "kind", "tags"):
        if _is_set(after.get(key)):
            body[key] = after[key]
    if _is_set(after.get("sku_name")):
        body["sku"] = {"name": after["sku_name"]}
    props: dict[str, Any] = {}
    if isinstance(after.get("public_network_access_enabled"), bool):
        props["publicNetworkAccess"] = "Enabled" if after["public_network_access_enabled"] else "Disabled"
    elif isinstance(after.get("public_network_access"), str):
        props["publicNetworkAccess"] = after["public_network_access"]
    for key in ("local_auth_enabled", "local_authentication_enabled"):
        if isinstance(after.get(key), bool):
            props["disableLocalAuth"] = not after[key]
    # An attribute Terraform will leave unset is unset after apply, whatever ARM has now: None
    # (the end state's merge removes it).
    if "custom_subdomain_name" in after:
        props["customSubDomainName"] = after["custom_subdomain_name"] or None
    for key in ("outbound_network_access_restricted", "outbound_network_access_restrited"):
        if isinstance(after.get(key), bool):
            props["restrictOutboundNetworkAccess"] = after[key]
    if isinstance(after.get("fqdns"), list):
        props["allowedFqdnList"] = list(after["fqdns"])
    acls = _block(after.get("network_acls"))
    if acls is not None:
        arm_acls: dict[str, Any] = {}
        if _is_set(acls.get("default_action")):
            arm_acls["defaultAction"] = acls["default_action"]
        if _is_set(acls.get("bypass")):
            arm_acls["bypass"] = acls["bypass"]
        arm_acls["ipRules"] = [{"value": ip} for ip in acls.get("ip_rules") or []]
        arm_acls["virtualNetworkRules"] = [
            {
                "id": r.get("subnet_id"),
                "ignoreMissingVnetServiceEndpoint": r.get("ignore_missing_vnet_service_endpoint"),
            }
            for r in acls.get("virtual_network_rules") or []
            if isinstance(r, dict)
        ]
        props["networkAcls"] = arm_acls
    elif "network_acls" in after:
        props["networkAcls"] = None
    cmk = _block(after.get("customer_managed_key"))
    if cmk is not None:
        props["encryption"] = _encryption(cmk)
    elif "customer_managed_key" in after:
        props["encryption"] = None
    body["properties"] = props
    identity = _block(after.get("identity"))
    if identity is not None and _is_set(identity.get("type")):
        body["identity"] = {
            "type": identity["type"],
            "userAssignedIdentities": {str(i): {} for i in identity.get("identity_ids") or []},
        }
    elif "identity" in after:
        body["identity"] = {"type": "None"}
    return body


def _encryption(cmk: dict[str, Any]) -> dict[str, Any]:
    key_id = str(cmk.get("key_vault_key_id") or cmk.get("managed_hsm_key_id") or "")
    match = re.match(r"^(https://[^/]+/)keys/([^/]+)(?:/([^/]+))?", key_id)
    vault: dict[str, Any] = {"identityClientId": cmk.get("identity_client_id")}
    if match:
        vault.update(keyVaultUri=match.group(1), keyName=match.group(2), keyVersion=match.group(3))
    return {"keySource": "Microsoft.KeyVault", "keyVaultProperties": vault}


def _deployment_body(after: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": DEPLOYMENT_TYPE}
    for key in ("id", "name"):
        if _is_set(after.get(key)):
            body[key] = after[key]
    props: dict[str, Any] = {}
    model = _block(after.get("model"))
    if model is not None:
        props["model"] = {k: model[k] for k in ("format", "name", "version") if _is_set(model.get(k))}
    sku = _block(after.get("sku"))
    scale = _block(after.get("scale"))
    if sku is not None:
        body["sku"] = {k: sku[k] for k in ("name", "capacity", "tier", "size", "family") if _is_set(sku.get(k))}
    elif scale is not None:
        body["sku"] = {
            "name": scale.get("type"),
            **({"capacity": scale["capacity"]} if _is_set(scale.get("capacity")) else {}),
        }
    for key, arm in (
        ("version_upgrade_option", "versionUpgradeOption"),
        ("rai_policy_name", "raiPolicyName"),
        ("dynamic_throttling_enabled", "dynamicThrottlingEnabled"),
    ):
        if _is_set(after.get(key)):
            props[arm] = after[key]
    body["properties"] = props
    return body


def _diagnostic_body(after: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, arm in (
        ("log_analytics_workspace_id", "workspaceId"),
        ("storage_account_id", "storageAccountId"),
        ("eventhub_authorization_rule_id", "eventHubAuthorizationRuleId"),
        ("partner_solution_id", "marketplacePartnerId"),
    ):
        if _is_set(after.get(key)):
            props[arm] = after[key]
    logs = []
    for block in after.get("enabled_log") or []:  # an enabled_log block is enabled by being there
        if isinstance(block, dict):
            logs.append(
                {
                    "category": block.get("category") or None,
                    "categoryGroup": block.get("category_group") or None,
                    "enabled": True,
                }
            )
    for block in after.get("log") or []:  # the 3.x `log` block carries its own `enabled`
        if isinstance(block, dict):
            logs.append(
                {
                    "category": block.get("category") or None,
                    "categoryGroup": block.get("category_group") or None,
                    "enabled": block.get("enabled", True) is not False,
                }
            )
    metrics = []
    for block in after.get("metric") or []:
        if isinstance(block, dict):
            metrics.append({"category": block.get("category"), "enabled": block.get("enabled", True) is not False})
    for block in after.get("enabled_metric") or []:
        if isinstance(block, dict):
            metrics.append({"category": block.get("category"), "enabled": True})
    props["logs"] = logs
    props["metrics"] = metrics
    return {"type": DIAGNOSTIC_TYPE, "name": after.get("name"), "properties": props}


# --------------------------------------------------------------------------------------------
# Tying children to accounts through `configuration` when the account id is unknown


class _Configuration:
    """Resource expressions of ``configuration`` by module path, to follow references."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.resources: dict[str, dict[str, Any]] = {}  # full config address -> expressions
        self.module_inputs: dict[str, dict[str, Any]] = {}  # "module.x" -> call expressions
        root = (document.get("configuration") or {}).get("root_module")
        if isinstance(root, dict):
            self._walk(root, "")

    def _walk(self, module: dict[str, Any], prefix: str) -> None:
        for resource in module.get("resources") or []:
            if isinstance(resource, dict) and isinstance(resource.get("address"), str):
                self.resources[prefix + resource["address"]] = resource.get("expressions") or {}
        for name, call in (module.get("module_calls") or {}).items():
            if not isinstance(call, dict):
                continue
            path = f"{prefix}module.{name}"
            self.module_inputs[path] = call.get("expressions") or {}
            if isinstance(call.get("module"), dict):
                self._walk(call["module"], path + ".")

    def references(self, address: str, attribute: str) -> list[str]:
        """Config addresses the attribute's expression refers to (module inputs followed once)."""
        config_address = re.sub(r"\[[^\]]*\]", "", address)
        module_prefix = config_address.rsplit(".", 2)[0] + "." if config_address.count(".") > 1 else ""
        expressions = self.resources.get(config_address) or {}
        refs = (expressions.get(attribute) or {}).get("references") or []
        found: list[str] = []
        for ref in refs:
            if not isinstance(ref, str):
                continue
            if ref.startswith("var.") and module_prefix:
                call = self.module_inputs.get(module_prefix.rstrip("."), {})
                parent_prefix = (
                    module_prefix.rstrip(".").rsplit(".", 2)[0] + "." if module_prefix.count(".") > 2 else ""
                )
                for outer in (call.get(ref.split(".")[1]) or {}).get("references") or []:
                    if isinstance(outer, str) and not outer.startswith(("var.", "local.")):
                        found.append(parent_prefix + outer)
            elif not ref.startswith(("local.", "each.", "count.", "path.", "terraform.")):
                found.append(module_prefix + ref)
        return found


def _resource_address(reference: str) -> str:
    """``module.a.azurerm_cognitive_account.main.id`` -> ``module.a.azurerm_cognitive_account.main``."""
    parts = re.sub(r"\[[^\]]*\]", "", reference).split(".")
    out: list[str] = []
    index = 0
    while index < len(parts):
        if parts[index] == "module" and index + 1 < len(parts):
            out += parts[index : index + 2]
            index += 2
            continue
        return ".".join([*out, *parts[index : index + 2]])
    return ".".join(out)


def _config_address(address: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", address)


# --------------------------------------------------------------------------------------------


def _azapi_type(after: dict[str, Any] | None, before: dict[str, Any] | None) -> str:
    for body in (after, before):
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            return str(body["type"]).split("@", 1)[0]
    return ""


def _azapi_body(value: dict[str, Any] | None, address: str) -> dict[str, Any] | None:
    if value is None:
        return None
    body = value.get("body")
    if isinstance(body, str):  # azapi 1.x: a JSON string
        try:
            body = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise UsageError(f"{address}: `body` is not JSON: {exc}") from None
    result = dict(body) if isinstance(body, dict) else {}
    for key in ("name", "location", "id"):
        if _is_set(value.get(key)):
            result[key] = value[key]
    identity = _block(value.get("identity"))
    if identity is not None and _is_set(identity.get("type")):
        result["identity"] = {
            "type": identity["type"],
            "userAssignedIdentities": {str(i): {} for i in identity.get("identity_ids") or []},
        }
    return result


def _azapi_unknowns(after_unknown: Any) -> list[str]:
    if after_unknown is True:
        return [WHOLE_BODY]
    if not isinstance(after_unknown, dict):
        return []
    found = []
    body = after_unknown.get("body")
    if body is True:
        return [WHOLE_BODY]
    for leaf in _unknown_leaves(body):
        keys = [str(p) for p in leaf if isinstance(p, str)]
        if keys:
            found.append(".".join(keys))
    for key in ("name", "location"):
        if after_unknown.get(key) is True:
            found.append(key)
    if after_unknown.get("identity"):
        found.append("identity")
    return sorted(set(found))


def parse(document: Any, *, source: str, sha256: str) -> Plan:
    """A ``terraform show -json`` document -> Plan. UsageError (exit 2) when it is not one."""
    if not is_plan(document):
        raise UsageError(
            f"{source} is not a Terraform plan: no `resource_changes` or `format_version`",
            hint="produce it with `terraform plan -out tfplan && terraform show -json tfplan > plan.json`",
        )
    assert isinstance(document, dict)
    version = document.get("format_version")
    if not isinstance(version, str) or version.split(".", 1)[0] not in SUPPORTED_MAJOR:
        raise UsageError(
            f"{source}: Terraform plan format_version {version!r} is not supported (this aoai reads 0.x and 1.x)",
            hint="use a Terraform release whose `terraform show -json` writes format_version 1.x",
        )
    if document.get("errored") is True:
        raise UsageError(f"{source}: Terraform reports that planning failed (errored: true)", hint="fix the plan first")
    changes = document.get("resource_changes", [])
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise UsageError(f"{source}: `resource_changes` must be a list of objects", hint="is the file complete?")
    plan = Plan(
        format="terraform",
        source=source,
        sha256=sha256,
        format_version=version,
        tool_version=str(document.get("terraform_version") or "") or None,
        subscription=_provider_subscription(document),
    )
    if document.get("complete") is False:
        plan.notes.append(
            "Terraform marks this plan incomplete (deferred changes): resources it deferred are not checked"
        )
    config = _Configuration(document)
    for change in changes:
        resource = _resource(change, config, plan)
        if resource is not None:
            plan.resources.append(resource)
    return plan


def _provider_subscription(document: dict[str, Any]) -> str | None:
    providers = (document.get("configuration") or {}).get("provider_config") or {}
    for key, provider in providers.items() if isinstance(providers, dict) else []:
        if not str(key).startswith("azurerm") or not isinstance(provider, dict):
            continue
        value = ((provider.get("expressions") or {}).get("subscription_id") or {}).get("constant_value")
        if isinstance(value, str) and value:
            return value
    return None


def _account_ref(change_address: str, attribute: str, value: Any, config: _Configuration) -> AccountRef:
    if isinstance(value, str) and _ACCOUNT_ID.match(value.rstrip("/")):
        return AccountRef(resource_id=value.rstrip("/"))
    for ref in config.references(change_address, attribute):
        target = _resource_address(ref)
        if target.rsplit(".", 2)[-2] in (*ACCOUNT_TYPES, "azapi_resource"):
            return AccountRef(address=target)
    return AccountRef()


def _resource(change: dict[str, Any], config: _Configuration, plan: Plan) -> PlannedResource | None:
    address = str(change.get("address") or "")
    rtype = str(change.get("type") or "")
    if change.get("mode", "managed") != "managed" or rtype not in RELEVANT_TYPES:
        return None
    inner = change.get("change")
    if not isinstance(inner, dict):
        raise UsageError(f"resource change {address or '?'} has no `change` object", hint="is the file complete?")
    action = _actions(inner.get("actions"), address)
    if action is None:
        return None
    after = inner.get("after") if isinstance(inner.get("after"), dict) else None
    before = inner.get("before") if isinstance(inner.get("before"), dict) else None
    after_unknown = inner.get("after_unknown", {})
    current = after or before or {}
    if action is Action.DELETE:
        after = None
    if rtype == "azapi_resource":
        # A body is passed through whole: values Terraform marks sensitive stay out of it (and the evidence).
        hidden = _azapi_unknowns(inner.get("after_sensitive"))
        return _azapi(address, action, after, before, after_unknown, config, plan, hidden)
    if rtype in ACCOUNT_TYPES:
        kind = current.get("kind") if rtype == "azurerm_cognitive_account" else "AIServices"
        if isinstance(kind, str) and kind not in OPENAI_KINDS:
            return None
        body = _account_body(after, rtype) if after is not None else None
        if body is not None and rtype == "azurerm_ai_services":
            body["kind"] = "AIServices"
        unknown = _arm_unknowns(after_unknown, _ACCOUNT_PATHS) if after is not None else []
        _drop(body, unknown)
        resource_id = current.get("id") if isinstance(current.get("id"), str) and "id" not in unknown else None
        ref = (
            AccountRef(resource_id=resource_id, address=_config_address(address))
            if resource_id
            else AccountRef(address=_config_address(address))
        )
        return PlannedResource(
            Kind.ACCOUNT,
            action,
            address,
            rtype,
            ref,
            str(current.get("name") or "") or None,
            body,
            _account_body(before, rtype) if before else None,
            unknown,
            resource_group=current.get("resource_group_name")
            if isinstance(current.get("resource_group_name"), str)
            else None,
        )
    if rtype in DEPLOYMENT_TYPES:
        ref = _account_ref(address, "cognitive_account_id", current.get("cognitive_account_id"), config)
        body = _deployment_body(after) if after is not None else None
        unknown = _arm_unknowns(after_unknown, _DEPLOYMENT_PATHS) if after is not None else []
        if body is not None and not (body.get("properties", {}).get("model") or {}).get("version"):
            unknown.append("properties.model.version")  # omitted: the service default at apply time
        _drop(body, unknown)
        return _child(
            Kind.DEPLOYMENT,
            action,
            address,
            rtype,
            ref,
            current,
            body,
            _deployment_body(before) if before else None,
            unknown,
            plan,
        )
    if rtype == "azurerm_monitor_diagnostic_setting":
        ref = _account_ref(address, "target_resource_id", current.get("target_resource_id"), config)
        if not _maybe_account(ref, current.get("target_resource_id")):
            return None
        body = _diagnostic_body(after) if after is not None else None
        unknown = _arm_unknowns(after_unknown, _DIAGNOSTIC_PATHS) if after is not None else []
        return _child(Kind.DIAGNOSTIC_SETTING, action, address, rtype, ref, current, body, None, unknown, plan)
    if rtype == "azurerm_private_endpoint":
        connection = _block(current.get("private_service_connection")) or {}
        ref = _account_ref(
            address, "private_service_connection", connection.get("private_connection_resource_id"), config
        )
        if not _maybe_account(ref, connection.get("private_connection_resource_id")):
            return None
        body = {
            "manual": connection.get("is_manual_connection") is True,
            "groupIds": list(connection.get("subresource_names") or []),
            "name": connection.get("name") or current.get("name"),
        }
        unknown = [WHOLE_BODY] if after_unknown is True else []
        return _child(
            Kind.PRIVATE_ENDPOINT,
            action,
            address,
            rtype,
            ref,
            current,
            body if after is not None else None,
            None,
            unknown,
            plan,
        )
    # azurerm_cognitive_account_customer_managed_key
    ref = _account_ref(address, "cognitive_account_id", current.get("cognitive_account_id"), config)
    body = {"properties": {"encryption": _encryption(current)}} if after is not None else None
    unknown = (
        ["properties.encryption"] if isinstance(after_unknown, dict) and after_unknown.get("key_vault_key_id") else []
    )
    return _child(Kind.CUSTOMER_MANAGED_KEY, action, address, rtype, ref, current, body, None, unknown, plan)


def _maybe_account(ref: AccountRef, value: Any) -> bool:
    """A diagnostic setting / private endpoint concerns us when it points at an account."""
    return ref.known or (isinstance(value, str) and "/microsoft.cognitiveservices/accounts/" in value.lower())


def _drop(body: dict[str, Any] | None, unknown: list[str]) -> None:
    if body is None:
        return
    for path in unknown:
        if path != WHOLE_BODY:
            drop_path(body, path)


def _child(
    kind: Kind,
    action: Action,
    address: str,
    rtype: str,
    ref: AccountRef,
    current: dict[str, Any],
    body: dict[str, Any] | None,
    before: dict[str, Any] | None,
    unknown: list[str],
    plan: Plan,
) -> PlannedResource | None:
    if not ref.known:
        plan.notes.append(f"{address}: which account it belongs to is known only after apply; not checked")
        return None
    return PlannedResource(
        kind, action, address, rtype, ref, str(current.get("name") or "") or None, body, before, sorted(set(unknown))
    )


def _azapi(
    address: str,
    action: Action,
    after: dict[str, Any] | None,
    before: dict[str, Any] | None,
    after_unknown: Any,
    config: _Configuration,
    plan: Plan,
    hidden: list[str],
) -> PlannedResource | None:
    arm_type = _azapi_type(after, before)
    current = after or before or {}
    body = _azapi_body(after, address)
    unknown = sorted({*_azapi_unknowns(after_unknown), *hidden}) if after is not None else []
    _drop(body, unknown)
    parent = current.get("parent_id")
    name = str(current.get("name") or "") or None
    lower = arm_type.lower()
    if lower == ACCOUNT_TYPE.lower():
        kind = (body or _azapi_body(before, address) or {}).get("kind")
        if isinstance(kind, str) and kind not in OPENAI_KINDS:
            return None
        match = _RG_ID.match(str(parent or ""))
        resource_id = f"{str(parent).rstrip('/')}/providers/{ACCOUNT_TYPE}/{name}" if match and name else None
        if body is not None:
            body.setdefault("type", ACCOUNT_TYPE)
        ref = AccountRef(resource_id=resource_id, address=_config_address(address))
        resource = PlannedResource(
            Kind.ACCOUNT, action, address, "azapi_resource", ref, name, body, _azapi_body(before, address), unknown
        )
        if match:
            resource.subscription, resource.resource_group = match["sub"], match["rg"]
        return resource
    if lower == DEPLOYMENT_TYPE.lower():
        ref = _account_ref(address, "parent_id", parent, config)
        if body is not None:
            body.setdefault("type", DEPLOYMENT_TYPE)
            if not ((body.get("properties") or {}).get("model") or {}).get("version"):
                unknown = sorted({*unknown, "properties.model.version"})
        return _child(
            Kind.DEPLOYMENT,
            action,
            address,
            "azapi_resource",
            ref,
            current,
            body,
            _azapi_body(before, address),
            unknown,
            plan,
        )
    if lower == DIAGNOSTIC_TYPE.lower():
        ref = _account_ref(address, "parent_id", parent, config)
        if not _maybe_account(ref, parent):
            return None
        return _child(
            Kind.DIAGNOSTIC_SETTING, action, address, "azapi_resource", ref, current, body, None, unknown, plan
        )
    if lower == PRIVATE_ENDPOINT_TYPE.lower():
        from aoai.preflight.plan.whatif import private_link_targets

        for target, manual, groups in private_link_targets(body or _azapi_body(before, address) or {}):
            if _ACCOUNT_ID.match(target.rstrip("/")):
                pe = {"manual": manual, "groupIds": groups, "name": name}
                return _child(
                    Kind.PRIVATE_ENDPOINT,
                    action,
                    address,
                    "azapi_resource",
                    AccountRef(target.rstrip("/")),
                    current,
                    pe if after else None,
                    None,
                    unknown,
                    plan,
                )
        return None
    return None
