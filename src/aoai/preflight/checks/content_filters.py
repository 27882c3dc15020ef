"""AOAI208: the content filter (RAI) policy each deployment uses is as strict as the gate requires.

Reads the account's RAI policies (``accounts/raiPolicies``, which lists the built-ins too). The
built-ins ``Microsoft.Default`` and ``Microsoft.DefaultV2`` are also known here, as documented,
for an answer that omits them; a policy ARM returns always wins over the known one.
"""

from __future__ import annotations

import re
from typing import Any

from aoai.preflight.checks import check
from aoai.preflight.checks.common import LEARN, deployments, finding, items, no_deployments, props
from aoai.preflight.policy import SEVERITY_LEVELS, ContentFilterGate, Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot

HARM_CATEGORIES = ("hate", "sexual", "violence", "selfharm")
SOURCES = ("Prompt", "Completion")


def _builtin(name: str, *, prompt_shield: bool) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"name": category.capitalize(), "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": src}
        for category in ("Hate", "Sexual", "Violence", "Selfharm")
        for src in SOURCES
    ]
    if prompt_shield:
        filters += [
            {"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"},
            {"name": "Protected Material Text", "blocking": True, "enabled": True, "source": "Completion"},
            {"name": "Protected Material Code", "blocking": False, "enabled": True, "source": "Completion"},
        ]
    return {
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
        "properties": {"mode": "Blocking", "type": "SystemManaged", "contentFilters": filters},
    }


# The documented built-in policies: four harm categories blocking at Medium on prompts and
# completions; DefaultV2 adds prompt shields for jailbreak attacks and protected material.
BUILTIN_RAI_POLICIES: dict[str, dict[str, Any]] = {
    "Microsoft.Default": _builtin("Microsoft.Default", prompt_shield=False),
    "Microsoft.DefaultV2": _builtin("Microsoft.DefaultV2", prompt_shield=True),
}


def _key(name: Any) -> str:
    """A filter name as a key: ``Selfharm``, ``self_harm`` and ``Self-Harm`` are one filter."""
    return re.sub(r"[^a-z]", "", str(name).lower())


def policy_problems(rai_policy: dict[str, Any], gate: ContentFilterGate) -> list[str]:
    """What in one RAI policy is weaker than the gate allows, one phrase per filter and setting."""
    properties = props(rai_policy)
    problems = []
    mode = properties.get("mode")
    if mode == "Asynchronous_filter" and not gate.allow_asynchronous:
        problems.append("mode Asynchronous_filter (content is returned before it is filtered)")
    filters: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in properties.get("contentFilters") or []:
        if isinstance(entry, dict):
            filters[(_key(entry.get("name")), str(entry.get("source", "")).lower())] = entry
    limit = SEVERITY_LEVELS.index(gate.max_severity)
    wanted = [(c, s) for c in HARM_CATEGORIES for s in SOURCES]
    if gate.require_prompt_shield:
        wanted.append(("jailbreak", "Prompt"))
    for category, source in wanted:
        label = f"{category} ({source.lower()})"
        entry = filters.get((category, source.lower()))
        if entry is None:
            problems.append(f"{label} has no filter")
            continue
        if entry.get("enabled") is not True:
            problems.append(f"{label} enabled={str(entry.get('enabled')).lower()}")
        elif entry.get("blocking") is not True:
            problems.append(f"{label} blocking={str(entry.get('blocking')).lower()}")
        threshold = entry.get("severityThreshold")
        if category != "jailbreak" and entry.get("enabled") is True:
            if threshold not in SEVERITY_LEVELS:
                problems.append(f"{label} severityThreshold {threshold!r} unknown")
            elif SEVERITY_LEVELS.index(threshold) > limit:
                problems.append(f"{label} severityThreshold {threshold} (allowed: {gate.max_severity} or stricter)")
    return problems


@check(
    "AOAI208",
    title="Each deployment's content filter is as strict as the policy requires",
    area=Area.DEPLOYMENTS,
    severity=Severity.HIGH,
    parts=("account", "deployments", "rai_policies"),
    what="For the content filter (RAI) policy each deployment names (`properties.raiPolicyName`), read from the "
    "account's `raiPolicies` (the built-ins `Microsoft.Default` and `Microsoft.DefaultV2` included): jailbreak "
    "detection (prompt shield) enabled and blocking on prompts; hate, sexual, violence and self-harm enabled, "
    "blocking, at severity threshold Medium or stricter (Low) on prompts and completions; mode not "
    "`Asynchronous_filter`. Configurable in `aoai.toml`, `[preflight.content_filters]`: `max_severity` "
    '("low", "medium", "high"), `require_prompt_shield`, `allow_asynchronous`.',
    why="AOAI207 only says a policy is attached. A custom policy that turned jailbreak detection off, or lets "
    "hate and violence through up to High, passes that check and ships an application that answers what the "
    "release review assumed was blocked. Asynchronous filtering returns content before it is checked.",
    pass_fail="Pass: every setting meets the gate. Fail: names the deployment, the policy, and each filter and "
    "setting that is weaker (or a policy the account does not have). Skip: no deployments, or a deployment with "
    "no policy (AOAI207 reports it).",
    remediation="Raise the policy's settings: Foundry portal, Guardrails + controls > Content filters > <policy> "
    "(jailbreak: annotate and block on prompts; harm categories at Medium or Low, blocking), or attach "
    "`Microsoft.DefaultV2` to the deployment (`properties.raiPolicyName`).",
    references=(
        f"{LEARN}/ai-foundry/openai/concepts/content-filter",
        f"{LEARN}/ai-foundry/openai/concepts/default-safety-policies",
        f"{LEARN}/ai-foundry/openai/how-to/content-filters",
    ),
)
def content_filter_strength(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    found = deployments(snapshot)
    if not found:
        return no_deployments("AOAI208", snapshot)
    known = {str(p.get("name", "")).lower(): p for p in items(snapshot, "rai_policies")}
    results = []
    for deployment in found:
        name = str(deployment.get("name"))
        rai_name = props(deployment).get("raiPolicyName")
        if not isinstance(rai_name, str) or not rai_name.strip():
            text = f"Deployment '{name}' names no content filter policy (AOAI207)"
            results.append(finding("AOAI208", snapshot, Status.SKIP, text, resource=name))
            continue
        rai_policy = known.get(rai_name.lower()) or BUILTIN_RAI_POLICIES.get(rai_name)
        if rai_policy is None:
            problems = ["the account has no policy of that name"]
        else:
            problems = policy_problems(rai_policy, policy.content_filters)
        origin = None if rai_policy is None else "arm" if rai_name.lower() in known else "built-in"
        observed = {"policy": rai_name, "source": origin}
        results.append(
            finding(
                "AOAI208",
                snapshot,
                Status.FAIL if problems else Status.PASS,
                f"Deployment '{name}', content filter policy {rai_name}: {'; '.join(problems)}"
                if problems
                else f"Deployment '{name}', content filter policy {rai_name}, meets the gate",
                part="rai_policies",
                resource=name,
                observed=observed | {"problems": problems},
                expected=policy.content_filters.to_dict(),
            )
        )
    return results
