"""Deployment checks (AOAI2xx): the names the application calls exist and run the right model;
models are provisioned, support the Responses API, are not near retirement, and have a content
filter. Lifecycle facts come from ARM location models (live), Responses support from the catalog."""

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
    need,
    no_deployments,
    not_offered,
    props,
)
from aoai.preflight.lifecycle import NO_DATE, effective_retirement
from aoai.preflight.plan.facts import plan_data, planned_deployments
from aoai.preflight.policy import Policy, RequiredDeployment
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot

_NO_REQUIRED = (
    "the policy names no deployments (use --deployment NAME=MODEL@VERSION or [[preflight.deployments]] in aoai.toml)"
)


def _by_name(snapshot: AccountSnapshot) -> dict[str, dict[str, Any]]:
    return {str(d.get("name")): d for d in deployments(snapshot)}


def _summary(deployment: dict[str, Any]) -> dict[str, Any]:
    _, name, version = deployment_model(deployment)
    sku, capacity = deployment_sku(deployment)
    return {"name": deployment.get("name"), "model": name, "version": version, "sku": sku, "capacity": capacity}


@check(
    "AOAI201",
    title="Every deployment the application calls exists",
    area=Area.DEPLOYMENTS,
    severity=Severity.HIGH,
    parts=("account", "deployments"),
    what="For each deployment the policy requires (`--deployment NAME…`), checks that a deployment of that "
    "name exists in the account. When the missing name is a model name, says so and lists the deployments "
    "that run that model.",
    why="The Responses API's `model` field takes the deployment name, not the model name. An application "
    "configured with `gpt-4o` where the deployment is called `prod-chat` gets 404 DeploymentNotFound on "
    "every call — the most common launch failure, and invisible until traffic arrives.",
    pass_fail="Pass: the deployment exists. Fail: it does not (the message says when a model name was used "
    "instead of a deployment name). Skip: the policy names no deployments.",
    remediation="Call the deployment by its name (`az cognitiveservices account deployment list --name <account> "
    '--resource-group <rg> --query "[].{name:name, model:properties.model.name}" -o table`), or create it: '
    "`az cognitiveservices account deployment create --name <account> --resource-group <rg> --deployment-name "
    "<deployment> --model-format OpenAI --model-name MODEL --model-version VERSION --sku-name GlobalStandard "
    "--sku-capacity 50`.",
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/create-resource#deploy-a-model",
        f"{LEARN}/ai-foundry/openai/how-to/responses",
    ),
)
def required_deployments_exist(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    if not policy.deployments:
        return [finding("AOAI201", snapshot, Status.SKIP, _NO_REQUIRED)]
    existing = _by_name(snapshot)
    known_models = policy.catalog.model_names()
    location_models = snapshot.part("location_models")
    if location_models is not None and location_models.ok and isinstance(location_models.data, list):
        known_models |= {
            str((m.get("model") or {}).get("name", "")).lower() for m in location_models.data if isinstance(m, dict)
        }
    results = []
    for required in policy.deployments:
        if required.name in existing:
            deployment = existing[required.name]
            _, model, version = deployment_model(deployment)
            results.append(
                finding(
                    "AOAI201",
                    snapshot,
                    Status.PASS,
                    f"Deployment '{required.name}' exists ({model_label(model, version)})",
                    part="deployments",
                    resource=required.name,
                    observed=_summary(deployment),
                    expected=required.to_dict(),
                )
            )
            continue
        runs_it = sorted(
            name for name, d in existing.items() if deployment_model(d)[1].lower() == required.name.lower()
        )
        observed = {"deployments": sorted(existing), "deployments_running_model": runs_it}
        if runs_it or required.name.lower() in known_models:
            listing = (
                f"deployments that run {required.name}: {', '.join(runs_it)}"
                if runs_it
                else f"no deployment in this account runs {required.name}"
            )
            message = (
                f"Deployment '{required.name}' does not exist: model name used instead of deployment name "
                f"(the Responses API `model` field takes the deployment name); {listing}"
            )
        else:
            names = ", ".join(sorted(existing)) or "none"
            account = snapshot.target.account
            message = f"Deployment '{required.name}' does not exist in account {account} (deployments: {names})"
        results.append(
            finding(
                "AOAI201",
                snapshot,
                Status.FAIL,
                message,
                part="deployments",
                resource=required.name,
                observed=observed,
                expected=required.to_dict(),
            )
        )
    return results


@check(
    "AOAI202",
    title="Required deployments run the model, version and SKU the policy names",
    area=Area.DEPLOYMENTS,
    severity=Severity.HIGH,
    parts=("account", "deployments"),
    what="For each required deployment that exists and for which the policy gives a model (and optionally a "
    "version and SKU), compares the deployment's `properties.model` name and version and its `sku.name`.",
    why="A deployment name can be re-pointed to another model or version by anyone with contributor rights; "
    "the application then gets different behaviour, limits and prices under the same name.",
    pass_fail="Pass: everything the policy names matches. Fail: a mismatch. Skip: the deployment is missing "
    "(see AOAI201) or the policy names only the deployment.",
    remediation="Either update the policy (`--deployment <deployment>=MODEL@VERSION`) or redeploy the intended model: "
    "`az cognitiveservices account deployment create --name <account> --resource-group <rg> --deployment-name "
    "<deployment> --model-format OpenAI --model-name MODEL --model-version VERSION --sku-name SKU --sku-capacity N`.",
    references=(f"{LEARN}/ai-foundry/openai/concepts/model-versions",),
)
def required_models_match(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    if not policy.deployments:
        return [finding("AOAI202", snapshot, Status.SKIP, _NO_REQUIRED)]
    existing = _by_name(snapshot)
    results = []
    for required in policy.deployments:
        if required.name not in existing:
            results.append(
                finding(
                    "AOAI202",
                    snapshot,
                    Status.SKIP,
                    f"Deployment '{required.name}' does not exist (see AOAI201)",
                    resource=required.name,
                )
            )
            continue
        if not (required.model or required.version or required.sku):
            results.append(
                finding(
                    "AOAI202",
                    snapshot,
                    Status.SKIP,
                    f"The policy names no model, version or SKU for deployment '{required.name}'",
                    resource=required.name,
                )
            )
            continue
        results.append(_compare(snapshot, required, existing[required.name]))
    return results


def _compare(snapshot: AccountSnapshot, required: RequiredDeployment, deployment: dict[str, Any]) -> Finding:
    _, model, version = deployment_model(deployment)
    sku, _ = deployment_sku(deployment)
    problems = []
    if required.model and required.model.lower() != model.lower():
        problems.append(f"model {model or 'none'} instead of {required.model}")
    if required.version and required.version != version:
        problems.append(f"version {version or 'none'} instead of {required.version}")
    if required.sku and (sku or "").lower() != required.sku.lower():
        problems.append(f"SKU {sku or 'none'} instead of {required.sku}")
    observed = {"model": model, "version": version, "sku": sku}
    expected = {"model": required.model, "version": required.version, "sku": required.sku}
    if problems:
        return finding(
            "AOAI202",
            snapshot,
            Status.FAIL,
            f"Deployment '{required.name}' runs {'; '.join(problems)}",
            part="deployments",
            resource=required.name,
            observed=observed,
            expected=expected,
        )
    return finding(
        "AOAI202",
        snapshot,
        Status.PASS,
        f"Deployment '{required.name}' runs {model_label(model, version)}" + (f" ({sku})" if sku else ""),
        part="deployments",
        resource=required.name,
        observed=observed,
        expected=expected,
    )


@check(
    "AOAI203",
    title="Deployments are provisioned",
    area=Area.DEPLOYMENTS,
    severity=Severity.HIGH,
    parts=("account", "deployments"),
    what="Checks `properties.provisioningState` of every deployment in the account.",
    why="A deployment that is `Creating`, `Updating`, `Failed` or `Deleting` does not serve requests "
    "(or serves them from a state that is about to change).",
    pass_fail="Pass: `Succeeded`. Fail: any other state. Skip: the account has no deployments.",
    remediation="Inspect it: `az cognitiveservices account deployment show --name <account> --resource-group <rg> "
    "--deployment-name <deployment>`; wait for a running operation to finish, or delete and recreate a failed "
    "deployment.",
    references=(f"{LEARN}/ai-foundry/openai/how-to/create-resource#deploy-a-model",),
)
def deployments_provisioned(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI203", snapshot)
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        state = props(deployment).get("provisioningState")
        ok = state == "Succeeded"
        results.append(
            finding(
                "AOAI203",
                snapshot,
                Status.PASS if ok else Status.FAIL,
                f"Deployment '{name}' is {state or 'in an unknown state'}",
                part="deployments",
                resource=name,
                observed=state,
                expected="Succeeded",
            )
        )
    return results


def _in_scope(snapshot: AccountSnapshot, policy: Policy) -> list[dict[str, Any]]:
    """Required deployments that exist when the policy names any; else every deployment."""
    found = deployments(snapshot)
    if policy.deployments:
        wanted = {d.name for d in policy.deployments}
        return [d for d in found if d.get("name") in wanted]
    return found


@check(
    "AOAI204",
    title="Deployed models support the Responses API",
    area=Area.DEPLOYMENTS,
    severity=Severity.HIGH,
    parts=("account", "deployments"),
    what="Looks up each deployment's model name and version in the catalog's Responses API model list. "
    "When the policy names deployments, only those are checked (an embeddings deployment need not support "
    "the Responses API); otherwise every deployment is.",
    why="Only some models and versions are served by the Responses API; an older version answers chat "
    "completions but fails on `/openai/v1/responses`.",
    pass_fail="Pass: the model and version are listed (a model listed without version matches any version). "
    "Fail: not listed. Skip: nothing in scope.",
    remediation="Deploy a supported version (`az cognitiveservices account deployment create --name <account> "
    "--resource-group <rg> --deployment-name <deployment> --model-format OpenAI --model-name MODEL --model-version "
    "VERSION --sku-name GlobalStandard --sku-capacity N`), or add a model Microsoft has since added to "
    "`extra_models` under `[preflight.catalog]`.",
    references=(f"{LEARN}/ai-foundry/openai/how-to/responses",),
)
def responses_models(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    scope = _in_scope(snapshot, policy)
    if not scope:
        text = "None of the required deployments exists (see AOAI201)" if policy.deployments else "No deployments"
        return [finding("AOAI204", snapshot, Status.SKIP, text)]
    catalog = policy.catalog
    version_label = ", ".join(f"catalog {s.version}" for s in catalog.sources if s.kind == "responses-models")
    results = []
    for deployment in scope:
        name = str(deployment.get("name"))
        _, model, version = deployment_model(deployment)
        observed = {"model": model, "version": version}
        if catalog.supports_model(model, version):
            results.append(
                finding(
                    "AOAI204",
                    snapshot,
                    Status.PASS,
                    f"Deployment '{name}' runs {model_label(model, version)}, which supports the Responses API",
                    part="deployments",
                    resource=name,
                    observed=observed,
                    expected=version_label,
                )
            )
            continue
        versions = catalog.versions_of(model)
        hint = f"supported versions of {model}: {', '.join(versions)}" if versions else f"{model} is not listed"
        results.append(
            finding(
                "AOAI204",
                snapshot,
                Status.FAIL,
                f"Deployment '{name}' runs {model_label(model, version)}, which is not in the Responses API "
                f"model list ({version_label}); {hint}",
                part="deployments",
                resource=name,
                observed=observed,
                expected={"versions": versions, "catalog": version_label},
            )
        )
    return results


def _lifecycle(snapshot: AccountSnapshot, deployment: dict[str, Any]) -> dict[str, Any] | None:
    fmt, model, version = deployment_model(deployment)
    return find_location_model(items(snapshot, "location_models"), model, version, fmt)


def _not_offered(snapshot: AccountSnapshot, deployment: dict[str, Any]) -> str:
    fmt, model, version = deployment_model(deployment)
    location = snapshot.location or "the account's location"
    return not_offered(items(snapshot, "location_models"), location, model, version, fmt)


def _replacement(entry: dict[str, Any]) -> str | None:
    config = entry.get("replacementConfig") or {}
    target = config.get("targetModelName")
    if not target:
        return None
    return model_label(str(target), config.get("targetModelVersion"))


@check(
    "AOAI205",
    title="Deployed model versions are not deprecated or close to retirement",
    area=Area.DEPLOYMENTS,
    severity=Severity.MEDIUM,
    parts=("account", "deployments", "location_models"),
    what="For each deployment, reads the model's entry in the location's models (Models_List): "
    "`lifecycleStatus`, `replacementConfig` and the deployment's effective retirement — the earlier of the model "
    "version's `deprecation.inference` and the deployment SKU's `skus[].deprecationDate` (a SKU can retire months "
    "before the version does), saying which of the two it is. A date more than 50 years out is a placeholder "
    "(partner models carry 2099-12-31) and reads as \"no retirement date announced\".",
    why="When a model version (or its SKU) retires, its deployments return errors (or are upgraded to a version the "
    "application was not tested with). The retirement dates are published in ARM well ahead; a gate should "
    "see them before users do. A version the region no longer lists is what a retired version looks like once it "
    "is removed.",
    pass_fail="Fail: `Deprecated`; the effective retirement date has passed (the message names the SKU and date "
    "when the SKU retired first); or the deployed version is not in the location's model list (retired, or never "
    "offered there). Warn: the effective date falls within `--retirement-days` (default 90), or the status is "
    "`Deprecating` or `Legacy`. Pass otherwise. The replacement model is shown when ARM names one.",
    remediation="Plan the upgrade: deploy the replacement version (or an offered SKU) next to the current one, test, "
    "then switch (`az cognitiveservices account deployment create --name <account> --resource-group <rg> "
    "--deployment-name <deployment>-next --model-format OpenAI --model-name MODEL --model-version NEW_VERSION "
    "--sku-name SKU --sku-capacity N`). Dates: `az cognitiveservices model list --location LOCATION`.",
    references=(
        f"{LEARN}/ai-foundry/openai/concepts/model-retirements",
        f"{LEARN}/ai-foundry/openai/concepts/model-versions",
    ),
)
def model_lifecycle(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI205", snapshot)
    need(snapshot, "location_models")
    now = snapshot.now
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        _, model, version = deployment_model(deployment)
        sku, _ = deployment_sku(deployment)
        label = model_label(model, version)
        entry = _lifecycle(snapshot, deployment)
        expected = {"not_deprecated": True, "min_days_left": policy.retirement_days}
        if entry is None:
            results.append(
                finding(
                    "AOAI205",
                    snapshot,
                    Status.FAIL,
                    f"Deployment '{name}': {_not_offered(snapshot, deployment)}",
                    part="location_models",
                    resource=name,
                    observed={"listed": False, "model": model, "version": version},
                    expected=expected,
                )
            )
            continue
        status_text = entry.get("lifecycleStatus")
        retirement = effective_retirement(entry, sku, now)
        replacement = _replacement(entry)
        days = retirement.days_left(now)
        observed = {"lifecycleStatus": status_text, **retirement.to_dict(now), "replacement": replacement}
        when = retirement.describe(now)
        if retirement.source == "sku" and retirement.model_date is not None:
            when += f"; the model version retires on {retirement.model_date.date().isoformat()}"
        if status_text == "Deprecated":
            status, text = Status.FAIL, f"{label} is deprecated" + (f" ({when})" if retirement.announced else "")
        elif retirement.retired(now):
            status, text = Status.FAIL, f"{label}: {when}"
        elif days is not None and days <= policy.retirement_days:
            status, text = Status.WARN, f"{label}: {when}, within {policy.retirement_days} days"
        elif status_text in ("Deprecating", "Legacy"):
            status, text = Status.WARN, f"{label} is {status_text}; {when}"
        else:
            status, text = Status.PASS, f"{label} is {status_text or 'available'}; {when}"
        if replacement and status is not Status.PASS:
            text += f"; replacement: {replacement}"
        results.append(
            finding(
                "AOAI205",
                snapshot,
                status,
                f"Deployment '{name}': {text}",
                part="location_models",
                resource=name,
                observed=observed,
                expected=expected,
            )
        )
    return results


_UPGRADING = "OnceNewDefaultVersionAvailable or OnceCurrentVersionExpired"


@check(
    "AOAI206",
    title="Deployments of a version with a retirement date upgrade automatically",
    area=Area.DEPLOYMENTS,
    severity=Severity.LOW,
    parts=("account", "deployments", "location_models"),
    what="Checks `properties.versionUpgradeOption` of each deployment against its effective retirement in the "
    "location's models (the earlier of the version's inference retirement and its SKU's deprecation date, as in "
    "AOAI205).",
    why="With `NoAutoUpgrade`, a deployment is not moved to a newer version when its version retires: it "
    "stops answering on the retirement date. Auto-upgrade (or a planned manual upgrade) avoids the outage; "
    "it changes the version only, never the SKU, so a SKU retirement needs a redeploy either way.",
    pass_fail="Fail: `NoAutoUpgrade` on a version the location no longer lists (retired, or never offered there). "
    "Warn: `NoAutoUpgrade` with an effective retirement date (the message gives it); any option when the SKU "
    "retires first; an auto-upgrade option on an unlisted version (nothing confirms the upgrade). Pass: an "
    "auto-upgrade option, or no retirement date announced.",
    remediation="Set the deployment's version upgrade option to `OnceNewDefaultVersionAvailable` or "
    "`OnceCurrentVersionExpired` (Foundry portal: Deployments > <deployment> > Edit; or "
    "`properties.versionUpgradeOption` in the deployment's Bicep/ARM template), or schedule the manual upgrade "
    "before the date; a retiring SKU needs a redeploy on an offered SKU.",
    references=(f"{LEARN}/ai-foundry/openai/concepts/model-versions",),
)
def upgrade_option(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI206", snapshot)
    need(snapshot, "location_models")
    now = snapshot.now
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        sku, _ = deployment_sku(deployment)
        option = props(deployment).get("versionUpgradeOption") or "OnceNewDefaultVersionAvailable"
        entry = _lifecycle(snapshot, deployment)
        pinned = option == "NoAutoUpgrade"
        if entry is None:
            results.append(
                finding(
                    "AOAI206",
                    snapshot,
                    Status.FAIL if pinned else Status.WARN,
                    f"Deployment '{name}' has {option}, but {_not_offered(snapshot, deployment)}"
                    + (": nothing will move it to a newer version" if pinned else ": cannot confirm it upgrades"),
                    part="deployments",
                    resource=name,
                    observed={"versionUpgradeOption": option, "listed": False},
                    expected=_UPGRADING,
                )
            )
            continue
        retirement = effective_retirement(entry, sku, now)
        observed = {"versionUpgradeOption": option, **retirement.to_dict(now)}
        if retirement.announced and (pinned or retirement.source == "sku"):
            consequence = (
                "it will stop answering then"
                if pinned
                else "upgrades change the version, not the SKU: redeploy on an offered SKU before then"
            )
            results.append(
                finding(
                    "AOAI206",
                    snapshot,
                    Status.WARN,
                    f"Deployment '{name}' has {option} and {retirement.describe(now)}: {consequence}",
                    part="deployments",
                    resource=name,
                    observed=observed,
                    expected=_UPGRADING,
                )
            )
        else:
            why = NO_DATE if not retirement.announced else "it upgrades automatically"
            results.append(
                finding(
                    "AOAI206",
                    snapshot,
                    Status.PASS,
                    f"Deployment '{name}' has {option} ({why})",
                    part="deployments",
                    resource=name,
                    observed=observed,
                )
            )
    return results


@check(
    "AOAI207",
    title="A content filter policy is attached to every deployment",
    area=Area.DEPLOYMENTS,
    severity=Severity.MEDIUM,
    parts=("account", "deployments"),
    what="Checks that each deployment names a content filter (responsible AI) policy in `properties.raiPolicyName`.",
    why="The content filter decides what the deployment blocks and annotates; an auditor asks which policy "
    "applies to each deployment. A deployment without an explicit policy depends on a service default the "
    "team never chose or reviewed.",
    pass_fail="Pass: `raiPolicyName` is set (e.g. `Microsoft.DefaultV2` or a custom policy). Fail: it is missing.",
    remediation="Attach a content filter: Foundry portal, Deployments > <deployment> > Edit > Content filter; or set "
    "`properties.raiPolicyName` (e.g. `Microsoft.DefaultV2`) in the deployment's Bicep/ARM template and redeploy.",
    references=(f"{LEARN}/ai-foundry/openai/how-to/content-filters",),
)
def content_filter(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI207", snapshot)
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        rai = props(deployment).get("raiPolicyName")
        if isinstance(rai, str) and rai.strip():
            results.append(
                finding(
                    "AOAI207",
                    snapshot,
                    Status.PASS,
                    f"Deployment '{name}' uses content filter policy {rai}",
                    part="deployments",
                    resource=name,
                    observed=rai,
                    expected="raiPolicyName set",
                )
            )
        else:
            results.append(
                finding(
                    "AOAI207",
                    snapshot,
                    Status.FAIL,
                    f"Deployment '{name}' has no content filter policy (raiPolicyName)",
                    part="deployments",
                    resource=name,
                    observed=None,
                    expected="raiPolicyName set",
                )
            )
    return results


@check(
    "AOAI209",
    title="Planned deployment names are unique and are the names the application calls",
    area=Area.DEPLOYMENTS,
    severity=Severity.HIGH,
    parts=("account", "deployments"),
    what="For a planned change (`aoai preflight plan`): each deployment the plan creates or changes has a name no "
    "other planned deployment of the account uses (ARM names are case-insensitive), a created name does not "
    "already exist in ARM outside the plan, and — when the policy names the deployments the application calls — "
    "a planned name is not a model name the application does not call.",
    why="Two deployments with one name make the second overwrite the first or fail at apply; a create over an "
    "existing deployment fails in Terraform (it must be imported first). Naming a deployment after its model "
    "(`gpt-4o`) where the application calls `chat` yields 404 DeploymentNotFound on every call, because the "
    "Responses API `model` field takes the deployment name.",
    pass_fail="Pass: unique and either called by the application or not a model name. Fail: a duplicate, a create "
    "of a name ARM already has, or a model name where the policy expects another deployment name. Skip: not a "
    "planned change, or the plan creates or changes no deployment.",
    remediation="Give each deployment in the template one name, the one the application calls (the policy's "
    "`--deployment NAME` / `[[preflight.deployments]]`); import an existing deployment into Terraform state "
    "(`terraform import`) instead of creating it again.",
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/create-resource#deploy-a-model",
        f"{LEARN}/ai-foundry/openai/how-to/responses",
    ),
)
def planned_names(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    planned = planned_deployments(snapshot)
    if planned is None:
        return [finding("AOAI209", snapshot, Status.SKIP, "Applies to planned changes (aoai preflight plan)")]
    written = {name: e for name, e in planned.items() if e.get("action") in ("create", "replace", "update", "no-op")}
    if not written:
        return [finding("AOAI209", snapshot, Status.SKIP, "The plan creates or changes no deployment")]
    data = plan_data(snapshot) or {}
    counts: dict[str, list[str]] = {}
    for resource in data.get("resources") or []:
        if resource.get("kind") == "deployment" and resource.get("action") != "delete" and resource.get("name"):
            counts.setdefault(str(resource["name"]).lower(), []).append(str(resource.get("address")))
    required = {d.name for d in policy.deployments}
    known_models = policy.catalog.model_names()
    location_models = snapshot.part("location_models")
    if location_models is not None and location_models.ok and isinstance(location_models.data, list):
        known_models |= {
            str((m.get("model") or {}).get("name", "")).lower() for m in location_models.data if isinstance(m, dict)
        }
    results = []
    for name, entry in sorted(written.items()):
        model = str((entry.get("after") or {}).get("model") or "")
        addresses = counts.get(name.lower(), [])
        problems = []
        if len(addresses) > 1:
            problems.append(f"{len(addresses)} planned deployments use this name ({', '.join(addresses)})")
        if entry.get("action") == "create" and entry.get("before") is not None:
            problems.append("it already exists in ARM, outside the plan: creating it again fails (import it instead)")
        if required and name not in required and (name.lower() in known_models or name.lower() == model.lower()):
            problems.append(
                f"it is a model name, and the application calls {', '.join(sorted(required))} "
                "(the Responses API `model` field takes the deployment name)"
            )
        observed = {"name": name, "model": model or None, "addresses": addresses, "action": entry.get("action")}
        if not problems and entry.get("action") == "create" and "deployments" in (data.get("partial") or []):
            text = f"Planned deployment '{name}': whether ARM already has it is unknown (deployments not read)"
            results.append(finding("AOAI209", snapshot, Status.SKIP, text, resource=name, observed=observed))
            continue
        results.append(
            finding(
                "AOAI209",
                snapshot,
                Status.FAIL if problems else Status.PASS,
                f"Planned deployment '{name}': {'; '.join(problems)}"
                if problems
                else f"Planned deployment '{name}' has a unique name"
                + (" the application calls" if name in required else ""),
                part="deployments",
                resource=name,
                observed=observed,
                expected=sorted(required) or None,
            )
        )
    return results
