"""AOAI208 over RaiPolicies_List payloads shaped as ARM returns them, and its aoai.toml settings."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from aoai.errors import UsageError
from aoai.preflight.policy import ContentFilterGate, Policy, load_policy_file
from aoai.preflight.report import Status

from .snapshots import READY_POLICY, changed, deployment, legacy, ready, run, statuses

ACCOUNT_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-aoai-demo"
    "/providers/Microsoft.CognitiveServices/accounts/aoai-ready"
)


def _filter(name: str, source: str, severity: str | None = "Medium", **flags: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "blocking": flags.get("blocking", True),
        "enabled": flags.get("enabled", True),
    }
    if severity:
        entry["severityThreshold"] = severity
    entry["source"] = source
    return entry


def custom_policy(name: str = "app-strict", mode: str = "Blocking", **override: Any) -> dict[str, Any]:
    """A user-managed policy as RaiPolicies_List returns it (api-version 2025-09-01)."""
    filters = [
        _filter(category, source, override.get(f"{category}_{source}", "Medium"))
        for category in ("Hate", "Sexual", "Violence", "Selfharm")
        for source in ("Prompt", "Completion")
    ]
    filters.append(_filter("Jailbreak", "Prompt", None, enabled=override.get("jailbreak", True)))
    filters.append(_filter("Indirect Attack", "Prompt", None, enabled=False, blocking=False))
    filters.append(_filter("Protected Material Text", "Completion", None))
    return {
        "id": f"{ACCOUNT_ID}/raiPolicies/{name}",
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
        "etag": '"0x8DC5A3F1B2C4D6E"',
        "systemData": {"createdAt": "2025-03-01T10:00:00.0000000Z", "createdByType": "User"},
        "properties": {
            "mode": mode,
            "type": "UserManaged",
            "basePolicyName": "Microsoft.DefaultV2",
            "contentFilters": filters,
            "customBlocklists": [],
        },
    }


def with_policy(rai_policy: dict[str, Any], *, attach_to: str = "chat") -> Any:
    snapshot = changed(ready(), "rai_policies", lambda data: data.append(rai_policy))

    def attach(item: dict[str, Any]) -> None:
        item["properties"]["raiPolicyName"] = rai_policy["name"]

    return deployment(snapshot, attach_to, attach)


def messages(findings: list[Any]) -> str:
    return "\n".join(f.message for f in findings)


def test_ready_scenario_passes_with_the_builtin_default_v2() -> None:
    findings = run("AOAI208", ready(), READY_POLICY)
    assert statuses(findings) == [Status.PASS, Status.PASS]
    assert all(f.observed["source"] == "arm" for f in findings)


def test_legacy_custom_policy_with_jailbreak_off_fails_naming_deployment_policy_filter_and_setting() -> None:
    (result,) = run("AOAI208", legacy())
    assert result.status is Status.FAIL
    assert "Deployment 'prod-chat'" in result.message and "legacy-relaxed" in result.message
    assert "jailbreak (prompt) enabled=false" in result.message
    assert "hate (completion) severityThreshold High (allowed: Medium or stricter)" in result.message
    assert result.remediation


def test_a_strict_custom_policy_passes() -> None:
    findings = run("AOAI208", with_policy(custom_policy()), READY_POLICY)
    assert statuses(findings) == [Status.PASS, Status.PASS]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"jailbreak": False}, "jailbreak (prompt) enabled=false"),
        ({"Violence_Prompt": "High"}, "violence (prompt) severityThreshold High"),
        ({"Selfharm_Completion": "High"}, "selfharm (completion) severityThreshold High"),
    ],
)
def test_each_weak_setting_fails(override: dict[str, Any], expected: str) -> None:
    findings = run("AOAI208", with_policy(custom_policy(**override)), READY_POLICY)
    by_name = {f.resource: f for f in findings}
    assert by_name["chat"].status is Status.FAIL and expected in by_name["chat"].message
    assert by_name["reasoner"].status is Status.PASS


def test_a_non_blocking_filter_and_a_missing_one_fail() -> None:
    rai_policy = custom_policy()
    filters = rai_policy["properties"]["contentFilters"]
    filters[0]["blocking"] = False  # Hate on prompts: annotate only
    del filters[3]  # Sexual on completions
    (chat, _) = run("AOAI208", with_policy(rai_policy), READY_POLICY)
    assert chat.status is Status.FAIL
    assert "hate (prompt) blocking=false" in chat.message and "sexual (completion) has no filter" in chat.message


def test_asynchronous_mode_fails_unless_allowed() -> None:
    snapshot = with_policy(custom_policy(mode="Asynchronous_filter"))
    (chat, _) = run("AOAI208", snapshot, READY_POLICY)
    assert chat.status is Status.FAIL and "mode Asynchronous_filter" in chat.message
    allowing = Policy(content_filters=ContentFilterGate(allow_asynchronous=True))
    assert statuses(run("AOAI208", snapshot, allowing)) == [Status.PASS, Status.PASS]


def test_thresholds_are_configurable() -> None:
    snapshot = with_policy(custom_policy(Hate_Completion="High", jailbreak=False))
    loose = Policy(content_filters=ContentFilterGate(max_severity="High", require_prompt_shield=False))
    assert statuses(run("AOAI208", snapshot, loose)) == [Status.PASS, Status.PASS]
    strict = Policy(content_filters=ContentFilterGate(max_severity="Low"))
    (chat, reasoner) = run("AOAI208", ready(), strict)
    assert chat.status is Status.FAIL and "(allowed: Low or stricter)" in chat.message
    assert reasoner.status is Status.FAIL


def test_a_builtin_missing_from_the_listing_is_known_and_microsoft_default_has_no_prompt_shield() -> None:
    snapshot = changed(ready(), "rai_policies", lambda data: [])
    assert {f.observed["source"] for f in run("AOAI208", snapshot, READY_POLICY)} == {"built-in"}

    def use_default(item: dict[str, Any]) -> None:
        item["properties"]["raiPolicyName"] = "Microsoft.Default"

    (chat, _) = run("AOAI208", deployment(snapshot, "chat", use_default), READY_POLICY)
    assert chat.status is Status.FAIL and "jailbreak (prompt) has no filter" in chat.message


def test_a_policy_the_account_does_not_have_fails_and_no_policy_skips() -> None:
    def unknown(item: dict[str, Any]) -> None:
        item["properties"]["raiPolicyName"] = "deleted-policy"

    def none(item: dict[str, Any]) -> None:
        item["properties"].pop("raiPolicyName")

    findings = run("AOAI208", deployment(deployment(ready(), "chat", unknown), "reasoner", none), READY_POLICY)
    assert statuses(findings) == [Status.FAIL, Status.SKIP]
    assert "no policy of that name" in findings[0].message and "AOAI207" in findings[1].message


def test_policy_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "aoai.toml"
    path.write_text(
        '[preflight.content_filters]\nmax_severity = "high"\nrequire_prompt_shield = false\nallow_asynchronous = true\n'
    )
    gate = load_policy_file(path).policy.content_filters
    assert gate == ContentFilterGate(max_severity="High", require_prompt_shield=False, allow_asynchronous=True)
    assert load_policy_file(path).policy.to_dict()["content_filters"]["max_severity"] == "High"
    assert "content_filters" not in Policy().to_dict()  # defaults: older evidence keeps its hash


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('max_severity = "severe"', "must be low, medium or high"),
        ("require_prompt_shield = 1", "must be true or false"),
        ("jailbreak = false", "unknown key"),
    ],
)
def test_bad_policy_file_settings_name_the_key(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "aoai.toml"
    path.write_text(f"[preflight.content_filters]\n{text}\n")
    with pytest.raises(UsageError) as raised:
        load_policy_file(path)
    assert problem in str(raised.value.message) and "content_filters" in str(raised.value.message)


def test_policy_round_trips_through_the_evidence_form() -> None:
    policy = Policy(content_filters=ContentFilterGate(max_severity="Low"))
    again = Policy.from_dict(copy.deepcopy(policy.to_dict()), policy.catalog)
    assert again.content_filters == policy.content_filters and again.sha256() == policy.sha256()
