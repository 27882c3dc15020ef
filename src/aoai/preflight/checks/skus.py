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
)
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
    "of the SKUs listed for it.",
    why="SKU availability differs by model, version and region, and changes over time. A SKU that is no longer "
    "offered cannot be scaled or recreated (for a redeploy or a second region) in the same shape.",
    pass_fail="Pass: the SKU is listed. Fail: the model version is listed without that SKU. Warn: the model "
    "version is not listed for the location at all.",
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
                    Status.WARN,
                    f"Deployment '{name}': {label} is not listed in the models of {location}; cannot confirm SKU {sku}",
                    part="location_models",
                    resource=name,
                    observed=sku,
                )
            )
            continue
        offered = [str(s.get("name")) for s in entry.get("skus") or [] if isinstance(s, dict) and s.get("name")]
        if sku and sku.lower() in {o.lower() for o in offered}:
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


def _usage_name(entry: dict[str, Any] | None, sku: str | None, model: str) -> str:
    """The quota usage name: the location model's ``skus[].usageName`` when ARM gives it,
    else the documented pattern ``OpenAI.<SkuName>.<model name>``."""
    for item in (entry or {}).get("skus") or []:
        if (
            isinstance(item, dict)
            and str(item.get("name", "")).lower() == (sku or "").lower()
            and item.get("usageName")
        ):
            return str(item["usageName"])
    return f"OpenAI.{sku}.{model}"


@check(
    "AOAI303",
    title="Quota leaves the required headroom for each deployment's model and SKU",
    area=Area.SKUS,
    severity=Severity.MEDIUM,
    parts=("account", "deployments", "location_models", "usages"),
    what="Finds the subscription's usage in the account's location (Usages_List) for each deployment's quota "
    "usage name (`OpenAI.<SKU>.<model>`, or the `usageName` ARM lists for the SKU) and computes the free share "
    "of the limit: (limit − current) / limit.",
    why="Quota is per subscription, region, model and SKU, shared by every deployment using it. With no headroom "
    "you cannot scale up during an incident, add a deployment, or redeploy to roll out a new version.",
    pass_fail="Pass: free share ≥ `--min-quota-headroom` (default 10 %). Fail: below. Warn: no usage entry "
    "found for the usage name.",
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
    location = snapshot.location or "the account's location"
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        fmt, model, version = deployment_model(deployment)
        sku, _ = deployment_sku(deployment)
        usage_name = _usage_name(find_location_model(models, model, version, fmt), sku, model)
        usage = usages.get(usage_name.lower())
        if usage is None or not isinstance(usage.get("limit"), int | float):
            results.append(
                finding(
                    "AOAI303",
                    snapshot,
                    Status.WARN,
                    f"Deployment '{name}': no quota usage {usage_name} in {location}; cannot confirm headroom",
                    part="usages",
                    resource=name,
                    observed=None,
                    expected={"usage": usage_name},
                )
            )
            continue
        limit = float(usage["limit"])
        current = float(usage.get("currentValue") or 0)
        free = 0.0 if limit <= 0 else max(0.0, (limit - current) / limit * 100)
        observed = {"usage": usage_name, "limit": limit, "current": current, "free_percent": round(free, 1)}
        expected = {"min_free_percent": policy.min_quota_headroom}
        text = (
            f"Deployment '{name}': quota {usage_name} in {location} uses {current:g} of {limit:g} "
            f"({free:.1f}% free; the policy needs {policy.min_quota_headroom:g}%)"
        )
        ok = free >= policy.min_quota_headroom
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
