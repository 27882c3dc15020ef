"""SKU, capacity and quota checks (AOAI3xx), from the location's models (which SKUs each model
version offers, and the quota usage name of each) and the subscription's usages in that location."""

from __future__ import annotations

from typing import Any

from aoai.preflight.checks import check
from aoai.preflight.checks.common import (
    LEARN,
    deployment_model,
    deployment_sku,
    deployments,
    find_location_model,
    finding,
    items,
    model_label,
    no_deployments,
    not_offered,
)
from aoai.preflight.lifecycle import effective_retirement, sku_entry
from aoai.preflight.plan.facts import added_capacity, planned_deployments, quota_additions
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot


@check(
    "AOAI301",
    title="Each deployment's SKU is offered for its model version in the region",
    area=Area.SKUS,
    severity=Severity.HIGH,
    parts=("account", "deployments", "location_models"),
    what="Looks up the deployment's model and version in the location's models (Models_List) and checks that "
    "the deployment's `sku.name` (GlobalStandard, Standard, DataZoneStandard, ProvisionedManaged, …) is one "
    "of the SKUs listed for it, and that the SKU's `deprecationDate` has not passed.",
    why="SKU availability differs by model, version and region, and changes over time. A SKU that is no longer "
    "offered (or has retired) cannot be scaled or recreated (for a redeploy or a second region) in the same shape, "
    "and a retired SKU stops serving even while the model version still runs on other SKUs.",
    pass_fail="Pass: the SKU is listed and not retired. Fail: the model version is listed without that SKU; the "
    "SKU's deprecation date has passed (the message names SKU and date); or the version is not listed for the "
    "location at all (retired, or never offered there).",
    remediation="List what is offered: `az cognitiveservices model list --location LOCATION --query "
    "\"[?model.name=='MODEL'].{version:model.version, skus:model.skus[].name}\"`, then redeploy with an offered "
    "SKU: `az cognitiveservices account deployment create --name <account> --resource-group <rg> --deployment-name "
    "<deployment> --model-format OpenAI --model-name MODEL --model-version VERSION --sku-name SKU --sku-capacity N`.",
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/deployment-types",
        f"{LEARN}/ai-foundry/openai/concepts/models",
    ),
)
def sku_offered(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI301", snapshot)
    models = items(snapshot, "location_models")
    location = snapshot.location or "the account's location"
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        fmt, model, version = deployment_model(deployment)
        sku, _ = deployment_sku(deployment)
        entry = find_location_model(models, model, version, fmt)
        label = model_label(model, version)
        if entry is None:
            results.append(
                finding(
                    "AOAI301",
                    snapshot,
                    Status.FAIL,
                    f"Deployment '{name}': {not_offered(models, location, model, version, fmt)}; "
                    f"SKU {sku} cannot be offered for it",
                    part="location_models",
                    resource=name,
                    observed=sku,
                )
            )
            continue
        offered = [str(s.get("name")) for s in entry.get("skus") or [] if isinstance(s, dict) and s.get("name")]
        listed = bool(sku) and str(sku).lower() in {o.lower() for o in offered}
        retired_on = effective_retirement(entry, sku, snapshot.now).sku_date
        if listed and retired_on is not None and retired_on <= snapshot.now:
            results.append(
                finding(
                    "AOAI301",
                    snapshot,
                    Status.FAIL,
                    f"Deployment '{name}': SKU {sku} of {label} retired on {retired_on.date().isoformat()} "
                    f"in {location} (listed SKUs: {', '.join(offered)})",
                    part="location_models",
                    resource=name,
                    observed={"sku": sku, "sku_deprecation": retired_on.date().isoformat()},
                    expected=offered,
                )
            )
        elif listed:
            results.append(
                finding(
                    "AOAI301",
                    snapshot,
                    Status.PASS,
                    f"Deployment '{name}': {sku} is offered for {label} in {location}",
                    part="location_models",
                    resource=name,
                    observed=sku,
                    expected=offered,
                )
            )
        else:
            results.append(
                finding(
                    "AOAI301",
                    snapshot,
                    Status.FAIL,
                    f"Deployment '{name}': SKU {sku or 'none'} is not offered for {label} in {location} "
                    f"(offered: {', '.join(offered) or 'none'})",
                    part="location_models",
                    resource=name,
                    observed=sku,
                    expected=offered,
                )
            )
    return results


@check(
    "AOAI302",
    title="Required deployments have at least the capacity the policy asks for",
    area=Area.SKUS,
    severity=Severity.MEDIUM,
    parts=("account", "deployments"),
    what="For each required deployment with `min_capacity` in the policy, compares the deployment's "
    "`sku.capacity` (thousands of tokens per minute for Standard/GlobalStandard, PTUs for provisioned).",
    why="Capacity is the deployment's rate limit. A launch sized for 100K TPM on a 10K TPM deployment meets "
    "429s on the first busy hour.",
    pass_fail="Pass: capacity ≥ `min_capacity`. Fail: lower. Skip: no minimum in the policy, or the deployment "
    "is missing (see AOAI201).",
    remediation="Raise the capacity (quota permitting, see AOAI303): redeploy with `az cognitiveservices account "
    "deployment create --name <account> --resource-group <rg> --deployment-name <deployment> --model-format OpenAI "
    "--model-name MODEL --model-version VERSION --sku-name SKU --sku-capacity N` (the same name and model "
    "updates it in place).",
    references=(f"{LEARN}/ai-foundry/openai/how-to/quota",),
)
def capacity_minimum(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    wanted = [d for d in policy.deployments if d.min_capacity is not None]
    if not wanted:
        return [finding("AOAI302", snapshot, Status.SKIP, "The policy sets no minimum capacity (min_capacity)")]
    existing = {str(d.get("name")): d for d in deployments(snapshot)}
    results = []
    for required in wanted:
        deployment = existing.get(required.name)
        if deployment is None:
            results.append(
                finding(
                    "AOAI302",
                    snapshot,
                    Status.SKIP,
                    f"Deployment '{required.name}' does not exist (see AOAI201)",
                    resource=required.name,
                )
            )
            continue
        sku, capacity = deployment_sku(deployment)
        ok = capacity is not None and required.min_capacity is not None and capacity >= required.min_capacity
        results.append(
            finding(
                "AOAI302",
                snapshot,
                Status.PASS if ok else Status.FAIL,
                f"Deployment '{required.name}' has capacity {capacity if capacity is not None else 'unknown'} "
                f"({sku}); the policy asks for at least {required.min_capacity}",
                part="deployments",
                resource=required.name,
                observed=capacity,
                expected=required.min_capacity,
            )
        )
    return results


def _usage_name(entry: dict[str, Any] | None, sku: str | None) -> str | None:
    """The quota usage name ARM gives for the SKU (the location model's ``skus[].usageName``), or None:
    never a guess — provisioned SKUs share a pool (``OpenAI.ProvisionedManaged``) and partner models
    use ``AIServices.*``, so a name built from a pattern may not exist."""
    item = sku_entry(entry, sku)
    value = item.get("usageName") if item is not None else None
    return str(value) if isinstance(value, str) and value.strip() else None


def _related_usages(names: list[str], model: str, sku: str | None) -> list[str]:
    """Usage names ARM returned that mention the model or the SKU (to help the reader match by hand)."""
    hints = [h.lower() for h in (model, sku) if h]
    return sorted(n for n in names if any(h in n.lower() for h in hints))[:8]


@check(
    "AOAI303",
    title="Quota leaves the required headroom for each deployment's model and SKU",
    area=Area.SKUS,
    severity=Severity.MEDIUM,
    parts=("account", "deployments", "location_models", "usages"),
    what="Finds the subscription's usage in the account's location (Usages_List) under the quota usage name "
    "ARM gives for the deployment's model version and SKU (`skus[].usageName` in the location's models — never a "
    "name built from a pattern) and computes the free share of the limit: (limit − current) / limit. For a planned "
    "change (`aoai preflight plan`), current is the usage after apply: today's usage plus the capacity the plan adds "
    "to that usage name (new deployments, and increases).",
    why="Quota is per subscription, region, model and SKU, shared by every deployment using it. With no headroom "
    "you cannot scale up during an incident, add a deployment, or redeploy to roll out a new version.",
    pass_fail="Pass: free share ≥ `--min-quota-headroom` (default 10 %). Fail: below, or a plan adds more than is "
    "free. Warn: the quota could not be matched — ARM gives no usage name for the model version and SKU (the message "
    "lists the usage names ARM returned that look related), or no usage of that name is listed. Skip: the capacity "
    "a plan adds is unknown until apply.",
    remediation="Free quota (lower other deployments' capacity) or request more: Foundry portal, Quotas > "
    "request quota increase; check usage with `az cognitiveservices usage list --location LOCATION --query "
    "\"[?contains(name.value, 'MODEL')]\"`.",
    references=(f"{LEARN}/ai-foundry/openai/how-to/quota", f"{LEARN}/ai-foundry/openai/quotas-limits"),
)
def quota_headroom(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI303", snapshot)
    models = items(snapshot, "location_models")
    usages = {
        str((u.get("name") or {}).get("value", "")).lower(): u
        for u in items(snapshot, "usages")
        if isinstance(u.get("name"), dict)
    }
    names = sorted({str((u.get("name") or {}).get("value", "")) for u in usages.values()} - {""})
    location = snapshot.location or "the account's location"

    def usage_of(fmt: str, model: str, version: str | None, sku: str | None) -> str | None:
        return _usage_name(find_location_model(models, model, version, fmt), sku)

    # A planned change: the usage after apply is the current usage plus what the plan adds.
    added, undecided, _ = quota_additions(snapshot, usage_of)
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        fmt, model, version = deployment_model(deployment)
        sku, _ = deployment_sku(deployment)
        usage_name = usage_of(fmt, model, version, sku)
        if usage_name is not None and usage_name.lower() in undecided:
            results.append(
                finding(
                    "AOAI303",
                    snapshot,
                    Status.SKIP,
                    f"Deployment '{name}': unknown until apply: the capacity the plan adds to quota {usage_name}",
                    resource=name,
                )
            )
            continue
        usage = usages.get(usage_name.lower()) if usage_name else None
        if usage_name is None or usage is None or not isinstance(usage.get("limit"), int | float):
            related = _related_usages(names, model, sku)
            unmatched = (
                f"no quota usage {usage_name} in {location}"
                if usage_name
                else f"ARM's model list for {location} gives no quota usage name for {model_label(model, version)} "
                f"on {sku}"
            )
            results.append(
                finding(
                    "AOAI303",
                    snapshot,
                    Status.WARN,
                    f"Deployment '{name}': quota could not be matched: {unmatched}; "
                    + (
                        f"related usages ARM returned: {', '.join(related)}"
                        if related
                        else "ARM returned no usage that looks related"
                    ),
                    part="usages",
                    resource=name,
                    observed={"usage": usage_name, "related_usages": related},
                    expected={"usage": usage_name},
                )
            )
            continue
        limit = float(usage["limit"])
        current = float(usage.get("currentValue") or 0)
        plus = added.get(usage_name.lower(), 0.0)
        after = current + plus
        free = 0.0 if limit <= 0 else max(0.0, (limit - after) / limit * 100)
        observed = {"usage": usage_name, "limit": limit, "current": current, "free_percent": round(free, 1)}
        if plus:
            observed.update(planned_addition=plus, after_apply=after)
        expected = {"min_free_percent": policy.min_quota_headroom}
        if plus and after > limit:
            text = (
                f"Deployment '{name}': the plan adds {plus:g} to quota {usage_name} in {location}, which has "
                f"{max(0.0, limit - current):g} of {limit:g} free: the deployment would fail for lack of quota"
            )
        elif plus:
            text = (
                f"Deployment '{name}': quota {usage_name} in {location} uses {current:g} of {limit:g}; the plan adds "
                f"{plus:g} -> {after:g} ({free:.1f}% free after apply; the policy needs {policy.min_quota_headroom:g}%)"
            )
        else:
            text = (
                f"Deployment '{name}': quota {usage_name} in {location} uses {current:g} of {limit:g} "
                f"({free:.1f}% free; the policy needs {policy.min_quota_headroom:g}%)"
            )
        ok = free >= policy.min_quota_headroom and after <= limit
        results.append(
            finding(
                "AOAI303",
                snapshot,
                Status.PASS if ok else Status.FAIL,
                text,
                part="usages",
                resource=name,
                observed=observed,
                expected=expected,
            )
        )
    return results


_PLAN_ONLY = "Applies to planned changes (aoai preflight plan): capacity already deployed is held"


@check(
    "AOAI304",
    title="The capacity a planned change adds is available in the region now",
    area=Area.SKUS,
    severity=Severity.HIGH,
    parts=("account", "deployments"),
    what="For a planned change (`aoai preflight plan`): for each deployment the plan creates or enlarges, reads the "
    "region's available capacity for its model, version and SKU (ModelCapacities_List, as `aoai preflight "
    "capacity` does) in the account's planned location, and compares it with the capacity the plan adds there "
    "for that model, version and SKU.",
    why="Quota is a subscription's allowance, not a promise that the region has the hardware: a popular model "
    "can have no capacity left in a region while quota says yes. The deployment then fails at apply time, "
    "half-way through a release.",
    pass_fail="Pass: available capacity ≥ what the plan adds. Fail: less, or the region lists no capacity for "
    "that model version and SKU. Skip: not a planned change, the plan adds no capacity, or a value is unknown "
    "until apply.",
    remediation="Find a region that fits: `aoai preflight capacity -m MODEL --version VERSION --sku SKU --capacity N`; "
    "plan the deployment there, lower its capacity, or use a Global / DataZone SKU.",
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/quota",
        f"{LEARN}/ai-foundry/openai/how-to/deployment-types",
    ),
)
def planned_capacity_available(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    planned = planned_deployments(snapshot)
    if planned is None:
        return [finding("AOAI304", snapshot, Status.SKIP, _PLAN_ONLY)]
    location = str(snapshot.location or "").lower()
    additions: list[tuple[str, tuple[str, str, str | None, str | None], float | None]] = []
    for name, entry in sorted(planned.items()):
        after = entry.get("after")
        _, amount = added_capacity(entry, lambda fmt, model, version, sku: f"{fmt}|{model}|{version}|{sku}")
        if not isinstance(after, dict) or amount == 0:
            continue
        key = (
            str(after.get("format") or "OpenAI"),
            str(after.get("model") or ""),
            after.get("version"),
            after.get("sku"),
        )
        additions.append((name, key, amount))
    if not additions:
        return [finding("AOAI304", snapshot, Status.SKIP, "The plan adds no deployment capacity")]
    capacities = items(snapshot, "model_capacities")
    totals: dict[tuple[str, str, str | None, str | None], float] = {}
    for _, key, amount in additions:
        totals[key] = totals.get(key, 0.0) + (amount or 0.0)
    results = []
    for name, (fmt, model, version, sku), amount in additions:
        label = model_label(model, version)
        if amount is None or version is None or sku is None:
            results.append(
                finding("AOAI304", snapshot, Status.SKIP, f"Deployment '{name}': unknown until apply", resource=name)
            )
            continue
        available = _available(capacities, location, fmt, model, version, sku)
        wanted = totals[(fmt, model, version, sku)]
        observed = {"location": location, "sku": sku, "available": available, "planned": wanted}
        if available is None or available < wanted:
            have = "no capacity is listed" if available is None else f"{available:g} is available"
            status, text = (
                Status.FAIL,
                (
                    f"Deployment '{name}': the plan asks for {wanted:g} of {label} {sku} in {location}, "
                    f"but {have} there now"
                ),
            )
        else:
            status, text = (
                Status.PASS,
                (
                    f"Deployment '{name}': {available:g} of {label} {sku} is available in {location}; "
                    f"the plan adds {wanted:g}"
                ),
            )
        results.append(
            finding(
                "AOAI304",
                snapshot,
                status,
                text,
                part="model_capacities",
                resource=name,
                observed=observed,
                expected={"at_least": wanted},
            )
        )
    return results


def _available(
    capacities: list[dict[str, Any]], location: str, fmt: str, model: str, version: str, sku: str
) -> float | None:
    """Available capacity for the model version and SKU in ``location`` (ModelCapacities_List items)."""
    for item in capacities:
        props = item.get("properties") or {}
        entry = props.get("model") or {}
        if str(item.get("location", "")).replace(" ", "").lower() != location:
            continue
        if str(entry.get("name", "")).lower() != model.lower() or str(entry.get("version", "")) != version:
            continue
        if entry.get("format") and str(entry["format"]).lower() != fmt.lower():
            continue
        if str(props.get("skuName") or item.get("name") or "").lower() != sku.lower():
            continue
        value = props.get("availableCapacity")
        return float(value) if isinstance(value, int | float) else None
    return None
