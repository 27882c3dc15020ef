"""Per planned account, the end state after apply as an ``AccountSnapshot`` (pure; no I/O).

``group`` ties the plan's resources to their accounts. ``build`` lays the planned changes over
what ARM has now (the live parts the caller read, or none: a created account, ``--offline``):
creates add, modifies merge over the live body, deletes remove. Each part's ``operation`` says
where its data came from (``Deployments_List+WhatIf`` = ARM's list with the plan applied, ``WhatIf``
= the plan alone), and the ``plan`` part records, per resource, the action, what is unknown until
apply, and which parts are only partly known (``--offline`` on an account that exists).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from aoai.errors import NotFoundError
from aoai.preflight.plan.model import (
    MODEL_CAPACITIES,
    NOT_READ,
    PLAN_PART,
    WHOLE_BODY,
    Action,
    Kind,
    Plan,
    PlannedResource,
    deep_merge,
    drop_path,
)
from aoai.preflight.plan.terraform import RELEVANT_TYPES as TERRAFORM_TYPES
from aoai.preflight.snapshot import AccountSnapshot, Part, PartError, PartName, Target

OPERATIONS = {"arm-whatif": "WhatIf", "terraform": "TerraformPlan"}
LOOKED_FOR = (
    "ARM What-If: Microsoft.CognitiveServices/accounts (kind OpenAI or AIServices) and accounts/deployments; "
    f"Terraform: {', '.join(TERRAFORM_TYPES)} (azapi_resource of those ARM types)"
)


@dataclass
class PlannedAccount:
    """One account the plan touches: its own change (if any) and its children's."""

    target: Target
    account: PlannedResource | None = None
    children: list[PlannedResource] = field(default_factory=list)

    @property
    def created(self) -> bool:
        """The plan creates it (so ARM has nothing to read for it now)."""
        return self.account is not None and self.account.action is Action.CREATE

    @property
    def location(self) -> str | None:
        body = self.account.body if self.account else None
        value = (body or {}).get("location")
        return str(value).replace(" ", "").lower() if isinstance(value, str) and value else None

    def of(self, kind: Kind) -> list[PlannedResource]:
        return [r for r in self.children if r.kind is kind]


def group(plan: Plan, default_subscription: str | None) -> list[PlannedAccount]:
    """The accounts the plan touches, in plan order. NotFoundError (exit 5) when there are none."""
    accounts: dict[str, PlannedAccount] = {}
    aliases: dict[str, str] = {}
    for resource in plan.resources:
        if resource.kind is not Kind.ACCOUNT:
            continue
        target = _target(resource, plan, default_subscription)
        key = target.resource_id.lower()
        if key in accounts:
            accounts[key].account = resource  # a replaced account is listed once per action in some plans
        else:
            accounts[key] = PlannedAccount(target, resource)
        aliases[resource.account.key] = key
        if resource.account.address:
            aliases[f"address:{resource.account.address}"] = key
    for resource in plan.resources:
        if resource.kind is Kind.ACCOUNT:
            continue
        owner: str | None = aliases.get(resource.account.key) or (
            aliases.get(f"address:{resource.account.address}") if resource.account.address else None
        )
        if owner is None and resource.account.resource_id:
            target = Target.parse(resource.account.resource_id)
            owner = target.resource_id.lower()
            aliases[resource.account.key] = owner
            accounts.setdefault(owner, PlannedAccount(target))
        if owner is None:
            plan.notes.append(
                f"{resource.address}: its account is not an Azure OpenAI account in this plan; not checked"
            )
            continue
        accounts[owner].children.append(resource)
    if not accounts:
        raise NotFoundError(
            f"{plan.source}: the {plan.format_label} holds no Azure OpenAI / AI Services account or deployment",
            hint=f"looked for {LOOKED_FOR}",
        )
    return list(accounts.values())


def _target(resource: PlannedResource, plan: Plan, default_subscription: str | None) -> Target:
    if resource.account.resource_id:
        return Target.parse(resource.account.resource_id)
    subscription = resource.subscription or plan.subscription or default_subscription or "unknown"
    return Target(subscription, resource.resource_group or "unknown", resource.name or resource.address)


# --------------------------------------------------------------------------------------------


def not_read(name: str, reason: str) -> Part:
    return Part(name=name, operation="none", error=PartError(message=reason, code=NOT_READ))


def _operation(live: Part | None, plan: Plan, changed: bool) -> str:
    planned = OPERATIONS.get(plan.format, plan.format)
    if live is None or not live.ok:
        return planned
    return f"{live.operation}+{planned}" if changed else live.operation


def _from(live: Part | None, name: str, data: Any, plan: Plan, changed: bool) -> Part:
    ok_live = live if live is not None and live.ok else None
    return Part(
        name=name,
        operation=_operation(ok_live, plan, changed),
        api_version=ok_live.api_version if ok_live else None,
        request_ids=list(ok_live.request_ids) if ok_live else [],
        data=data,
        scope=ok_live.scope if ok_live else None,
        elapsed_ms=ok_live.elapsed_ms if ok_live else None,
    )


def _summary(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is None:
        return None
    properties = body.get("properties")
    model = properties.get("model") if isinstance(properties, dict) else None
    model = model if isinstance(model, dict) else {}
    sku = body.get("sku")
    sku = sku if isinstance(sku, dict) else {}
    return {
        "format": model.get("format") or "OpenAI",
        "model": model.get("name"),
        "version": model.get("version"),
        "sku": sku.get("name"),
        "capacity": sku.get("capacity"),
    }


def _same(a: Any, b: Any) -> bool:
    return str(a or "").lower() == str(b or "").lower()


def build(
    planned: PlannedAccount,
    plan: Plan,
    *,
    live: AccountSnapshot | None,
    region: dict[str, Part],
    taken_at: str,
    arm_endpoint: str,
    offline: bool,
) -> AccountSnapshot:
    """The end state of one planned account. ``live``: ARM's snapshot of it (None when the plan
    creates it or ``--offline``); ``region``: the location parts and model capacities read for
    its planned location (absent ones are recorded as not read)."""
    reason = "not read: --offline, no ARM access" if offline else "not read"
    live_parts = live.parts if live is not None else {}
    partial: list[str] = []
    unknown: dict[str, Any] = {"account": [], "deployments": {}, "diagnostic_settings": [], "private_endpoints": []}
    snapshot = AccountSnapshot(target=planned.target, taken_at=taken_at, arm_endpoint=arm_endpoint)
    exists_unread = not planned.created and live is None

    # -- the account ---------------------------------------------------------------------------
    change = planned.account
    live_account = live_parts.get(str(PartName.ACCOUNT))
    account_data = copy.deepcopy(live_account.data) if live_account is not None and live_account.ok else None
    deleted = change is not None and change.action is Action.DELETE
    cmk = [r for r in planned.of(Kind.CUSTOMER_MANAGED_KEY) if r.action.writes]
    changed = False
    if change is not None and change.action.writes:
        changed = True
        if WHOLE_BODY in change.unknown:
            unknown["account"] = [WHOLE_BODY]
        else:
            account_data = deep_merge(account_data, change.body)
            unknown["account"] = list(change.unknown)
            if change.action.creates:
                unknown["account"].append("properties.provisioningState")
    for resource in cmk:
        changed = True
        account_data = deep_merge(account_data, resource.body)
        unknown["account"] += resource.unknown
    if isinstance(account_data, dict):
        for path in unknown["account"]:
            if path != WHOLE_BODY:
                drop_path(account_data, path)
    account_read = True
    if account_data is None and not deleted:
        # Nothing known about the account itself (--offline, or a body the plan does not give):
        # a stub names it, so the checks of its planned deployments still run.
        account_read = not exists_unread
        unknown["account"] = [WHOLE_BODY]
        snapshot.parts[str(PartName.ACCOUNT)] = _from(
            None, str(PartName.ACCOUNT), {"id": planned.target.resource_id, "name": planned.target.account}, plan, True
        )
    else:
        if deleted and account_data is None:
            account_data = copy.deepcopy(change.before) if change and change.before else {}
        snapshot.parts[str(PartName.ACCOUNT)] = _from(
            live_account, str(PartName.ACCOUNT), account_data, plan, changed or deleted
        )
    if planned.location and isinstance(account_data, dict) and not account_data.get("location"):
        account_data["location"] = planned.location

    # -- deployments -----------------------------------------------------------------------------
    live_deployments = live_parts.get(str(PartName.DEPLOYMENTS))
    deployments: list[dict[str, Any]] = []
    if live_deployments is not None and live_deployments.ok and isinstance(live_deployments.data, list):
        deployments = copy.deepcopy([d for d in live_deployments.data if isinstance(d, dict)])
    elif exists_unread and not deleted:
        partial.append(str(PartName.DEPLOYMENTS))
    changes: dict[str, Any] = {}
    for resource in planned.of(Kind.DEPLOYMENT):
        name = resource.name or (resource.body or {}).get("name") or resource.address
        index = next((i for i, d in enumerate(deployments) if _same(d.get("name"), name)), None)
        current = deployments[index] if index is not None else None
        before = _summary(current) or _summary(resource.before)
        entry: dict[str, Any] = {"action": resource.action.value, "address": resource.address, "before": before}
        if resource.action is Action.DELETE:
            if index is not None:
                deployments.pop(index)
            entry["after"] = None
        elif resource.action.writes or resource.action is Action.UNSUPPORTED:
            paths = list(resource.unknown)
            if resource.action.creates or current is None:
                body = copy.deepcopy(resource.body or {})
                if resource.action.creates:
                    paths.append("properties.provisioningState")
            else:
                body = deep_merge(current, resource.body)
            body["name"] = name
            for path in paths:
                if path != WHOLE_BODY:
                    drop_path(body, path)
            if index is not None:
                deployments[index] = body
            else:
                deployments.append(body)
            unknown["deployments"][name] = sorted(set(paths))
            entry["after"] = _summary(body)
        else:
            entry["after"] = before
        changes[name] = entry
    if deleted:
        deployments = []
    snapshot.parts[str(PartName.DEPLOYMENTS)] = (
        _from(live_deployments, str(PartName.DEPLOYMENTS), deployments, plan, bool(changes) or deleted)
        if (live_deployments is not None and live_deployments.ok) or not exists_unread or changes
        else not_read(str(PartName.DEPLOYMENTS), reason)
    )

    # -- private endpoint connections and diagnostic settings --------------------------------------
    snapshot.parts[str(PartName.PRIVATE_ENDPOINT_CONNECTIONS)] = _children_part(
        PartName.PRIVATE_ENDPOINT_CONNECTIONS,
        planned.of(Kind.PRIVATE_ENDPOINT),
        live_parts,
        plan,
        exists_unread,
        reason,
        partial,
        unknown["private_endpoints"],
        _connection,
    )
    snapshot.parts[str(PartName.DIAGNOSTIC_SETTINGS)] = _children_part(
        PartName.DIAGNOSTIC_SETTINGS,
        planned.of(Kind.DIAGNOSTIC_SETTING),
        live_parts,
        plan,
        exists_unread,
        reason,
        partial,
        unknown["diagnostic_settings"],
        _setting,
    )

    # -- content filter policies: ARM's; a plan's own raiPolicies are not modelled, so unknown otherwise
    live_rai = live_parts.get(str(PartName.RAI_POLICIES))
    snapshot.parts[str(PartName.RAI_POLICIES)] = (
        live_rai if live_rai is not None else not_read(str(PartName.RAI_POLICIES), reason)
    )

    # -- region data (always ARM, for the planned location) -----------------------------------------
    for name in (str(PartName.LOCATION_MODELS), str(PartName.USAGES), MODEL_CAPACITIES):
        part = region.get(name)
        snapshot.parts[name] = part if part is not None else not_read(name, reason)

    snapshot.parts[PLAN_PART] = Part(
        name=PLAN_PART,
        operation=OPERATIONS.get(plan.format, plan.format),
        scope=plan.source,
        data={
            "format": plan.format,
            "source": plan.source,
            "sha256": plan.sha256,
            "format_version": plan.format_version,
            "tool_version": plan.tool_version,
            "offline": offline,
            "account": {
                "action": change.action.value if change else None,
                "address": change.address if change else None,
                "exists": not planned.created,
                "read": account_read,
                "reason": None if account_read else reason,
            },
            "deployments": changes,
            "unknown": unknown,
            "partial": sorted(set(partial)),
            "resources": [r.to_dict() for r in ([change] if change else []) + planned.children],
        },
    )
    return snapshot


def _children_part(
    name: PartName,
    resources: list[PlannedResource],
    live_parts: dict[str, Part],
    plan: Plan,
    exists_unread: bool,
    reason: str,
    partial: list[str],
    unknown: list[str],
    convert: Any,
) -> Part:
    live = live_parts.get(str(name))
    items: list[dict[str, Any]] = []
    if live is not None and live.ok and isinstance(live.data, list):
        items = copy.deepcopy([i for i in live.data if isinstance(i, dict)])
    elif exists_unread:
        if not resources:
            return not_read(str(name), reason)
        partial.append(str(name))
    for resource in resources:
        item = convert(resource)
        items = [i for i in items if not _matches(i, resource)]
        if resource.action is not Action.DELETE and item is not None:
            items.append(item)
        if resource.unknown:
            unknown.append(f"{resource.address}: {', '.join(resource.unknown)}")
    return _from(live, str(name), items, plan, bool(resources))


def _matches(item: dict[str, Any], resource: PlannedResource) -> bool:
    if resource.kind is Kind.PRIVATE_ENDPOINT:
        endpoint = ((item.get("properties") or {}).get("privateEndpoint") or {}).get("id")
        return bool(endpoint) and _same(endpoint, resource.address if resource.address.startswith("/") else None)
    return _same(item.get("name"), resource.name)


def _connection(resource: PlannedResource) -> dict[str, Any] | None:
    """A planned private endpoint as the connection ARM lists on the account: automatic approval
    (``is_manual_connection = false``, ``privateLinkServiceConnections``) ends ``Approved``, a
    manual request ``Pending`` until someone approves it."""
    body = resource.body or {}
    if WHOLE_BODY in resource.unknown:
        return None
    return {
        "name": body.get("name") or resource.name,
        "properties": {
            "privateEndpoint": {"id": resource.address if resource.address.startswith("/") else None},
            "groupIds": body.get("groupIds") or [],
            "privateLinkServiceConnectionState": {
                "status": "Pending" if body.get("manual") else "Approved",
                "description": "planned (" + ("manual approval" if body.get("manual") else "automatic approval") + ")",
            },
        },
    }


def _setting(resource: PlannedResource) -> dict[str, Any] | None:
    if resource.body is None:
        return None
    item = copy.deepcopy(resource.body)
    item["name"] = resource.name or item.get("name")
    return item
