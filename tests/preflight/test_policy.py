"""The policy file (aoai.toml [preflight]), flags over it, selectors and waivers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from aoai.errors import UsageError
from aoai.preflight.checks import resolve_selector, select
from aoai.preflight.policy import (
    Policy,
    PolicyFlags,
    RequiredDeployment,
    Waiver,
    apply_waivers,
    find_policy_file,
    load_policy_file,
    merge_flags,
)
from aoai.preflight.report import FailOn, Finding, Severity, Status

FULL = """\
[preflight]
subscription = "00000000-0000-0000-0000-000000000001"
resource_group = "rg-aoai-demo"
account = "aoai-ready"
fail_on = "warn"
skip = ["AOAI403"]
require_cmk = true

[preflight.thresholds]
retirement_days = 30
min_quota_headroom = 25.5

[[preflight.deployments]]
name = "chat"
model = "gpt-4.1"
version = "2025-04-14"
sku = "GlobalStandard"
min_capacity = 50

[[preflight.deployments]]
name = "reasoner"

[preflight.catalog]
extra_regions = ["West Europe"]
extra_models = ["gpt-6@2026-10-01", "o9"]

[[preflight.waivers]]
check = "AOAI403"
reason = "egress proxy at the VNet"
expires = 2027-01-31

[[preflight.waivers]]
check = "AOAI207"
deployment = "chat"
reason = "custom filter rolled out next sprint"
expires = "2026-01-01"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aoai.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_policy_file(tmp_path: Path) -> None:
    policy = load_policy_file(_write(tmp_path, FULL)).policy
    assert policy.target.account == "aoai-ready"
    assert policy.fail_on is FailOn.WARN
    assert policy.skip == ("AOAI403",)
    assert policy.require_cmk is True
    assert policy.retirement_days == 30 and policy.min_quota_headroom == 25.5
    assert policy.deployments == (
        RequiredDeployment("chat", "gpt-4.1", "2025-04-14", "GlobalStandard", 50),
        RequiredDeployment("reasoner"),
    )
    assert policy.catalog.supports_region("westeurope")
    assert policy.catalog.supports_model("gpt-6", "2026-10-01")
    assert policy.catalog.supports_model("o9", "anything")
    assert policy.waivers[0] == Waiver("AOAI403", "egress proxy at the VNet", None, date(2027, 1, 31))
    assert policy.waivers[1].deployment == "chat" and policy.waivers[1].expires == date(2026, 1, 1)
    assert policy.source == str(tmp_path / "aoai.toml")


def test_defaults_without_a_file(tmp_path: Path) -> None:
    assert find_policy_file(None, tmp_path) is None
    policy = load_policy_file(None).policy
    assert (policy.retirement_days, policy.min_quota_headroom, policy.fail_on) == (90, 10.0, FailOn.FAIL)
    assert len(policy.catalog.regions) == 25


def test_default_file_is_found_and_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "[preflight]\n")
    assert find_policy_file(None, tmp_path) == path
    with pytest.raises(UsageError, match="does not exist"):
        find_policy_file("nope.toml", tmp_path)


@pytest.mark.parametrize(
    ("text", "where", "line"),
    [
        ("[preflight]\nfail_on = 'sometimes'\n", "preflight.fail_on", 2),
        ("[preflight]\naccount = 'a'\nbogus = 1\n", "preflight.bogus", 3),
        ("[preflight]\n\n[preflight.thresholds]\nretirement_days = -3\n", "preflight.thresholds.retirement_days", 4),
        ("[preflight]\n[preflight.thresholds]\nmin_quota_headroom = 150\n", "min_quota_headroom", 3),
        ("[preflight]\nonly = ['AOAI999']\n", "preflight.only", 2),
        ("[preflight]\nskip = 'AOAI403'\n", "preflight.skip", 2),
        (
            "[preflight]\n[[preflight.deployments]]\nname = 'a'\n"
            "[[preflight.deployments]]\nname = 'b'\nmin_capacity = 'x'\n",
            "preflight.deployments[1].min_capacity",
            6,
        ),
        ("[preflight]\n[[preflight.deployments]]\nmodel = 'gpt-4o'\n", "preflight.deployments[0]", 2),
        ("[preflight]\n[[preflight.waivers]]\ncheck = 'AOAI403'\n", "preflight.waivers[0].reason", 2),
        ("[preflight]\n[[preflight.waivers]]\ncheck = 'AOAI999'\nreason = 'x'\n", "unknown check AOAI999", 3),
        (
            "[preflight]\n[[preflight.waivers]]\ncheck = 'AOAI403'\nreason = 'x'\nexpires = 'soon'\n",
            "preflight.waivers[0].expires",
            5,
        ),
        ("[preflight]\n[preflight.catalog]\nregions = ['a']\nextra = 1\n", "preflight.catalog.extra", 4),
        ("[preflight]\ndeployments = [{name = 'a', colour = 'red'}]\n", "preflight.deployments[0].colour", 2),
    ],
)
def test_bad_policy_names_the_key_and_line(tmp_path: Path, text: str, where: str, line: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_policy_file(path)
    message = info.value.message
    assert where in message
    assert f"{path}:{line}:" in message


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"line 2"):
        load_policy_file(_write(tmp_path, "[preflight]\naccount = \n"))


def test_flags_override_the_file(tmp_path: Path) -> None:
    policy = load_policy_file(_write(tmp_path, FULL)).policy
    merged = merge_flags(
        policy,
        PolicyFlags(
            deployments=("chat=gpt-4.1@2025-04-14", "new=gpt-5"),
            only=("network",),
            skip=("AOAI402",),
            fail_on="fail",
            retirement_days=10,
            min_quota_headroom=0,
        ),
    )
    # Same name keeps the file's SKU and capacity; the list is replaced (reasoner gone).
    assert merged.deployments == (
        RequiredDeployment("chat", "gpt-4.1", "2025-04-14", "GlobalStandard", 50),
        RequiredDeployment("new", "gpt-5", None),
    )
    assert (merged.only, merged.skip, merged.fail_on) == (("network",), ("AOAI402",), FailOn.FAIL)
    assert (merged.retirement_days, merged.min_quota_headroom) == (10, 0.0)


@pytest.mark.parametrize("text", ["", "=gpt-4o", "chat=", "chat=gpt-4o@", " = "])
def test_bad_deployment_flag(text: str) -> None:
    with pytest.raises(UsageError):
        RequiredDeployment.parse_flag(text)


def test_deployment_flag_forms() -> None:
    assert RequiredDeployment.parse_flag("chat") == RequiredDeployment("chat")
    assert RequiredDeployment.parse_flag("chat=gpt-4.1") == RequiredDeployment("chat", "gpt-4.1")
    assert RequiredDeployment.parse_flag("chat=gpt-4.1@2025-04-14") == RequiredDeployment(
        "chat", "gpt-4.1", "2025-04-14"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (PolicyFlags(only=("nothing",)), "--only 'nothing' names no check"),
        (PolicyFlags(skip=("AOAI8",)), "--skip 'AOAI8'"),
        (PolicyFlags(fail_on="maybe"), "--fail-on"),
        (PolicyFlags(min_quota_headroom=101), "percentage"),
        (PolicyFlags(retirement_days=-1), "negative"),
        (PolicyFlags(deployments=("a", "a=gpt-4o")), "given twice"),
    ],
)
def test_bad_flags_are_usage_errors(flags: PolicyFlags, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        merge_flags(Policy(), flags)


def test_selectors() -> None:
    assert resolve_selector("AOAI401") == {"AOAI401"}
    assert resolve_selector("aoai40") == {"AOAI401", "AOAI402", "AOAI403"}
    assert resolve_selector("network") == {"AOAI401", "AOAI402", "AOAI403"}
    assert resolve_selector("Identity") == {"AOAI601", "AOAI602", "AOAI603"}
    assert resolve_selector("AOAI") == set() and resolve_selector("net") == set()
    assert select(("network", "AOAI101"), ("AOAI403",)) == {"AOAI101", "AOAI401", "AOAI402"}
    assert select((), ("deployments", "skus")) == select() - resolve_selector("AOAI2") - resolve_selector("AOAI3")
    with pytest.raises(UsageError):
        select(("AOAI000",))


def _finding(check: str, status: Status, resource: str | None = None) -> Finding:
    return Finding(
        check, status, Severity.LOW, "/subscriptions/s/resourceGroups/g/providers/x/accounts/a", "m", resource
    )


def test_waivers_apply_until_they_expire() -> None:
    findings = [
        _finding("AOAI403", Status.WARN),
        _finding("AOAI207", Status.FAIL, "chat"),
        _finding("AOAI207", Status.FAIL, "other"),
        _finding("AOAI501", Status.ERROR),
    ]
    waivers = [
        Waiver("AOAI403", "proxy", None, date(2027, 1, 31)),
        Waiver("AOAI207", "next sprint", "chat", None),
        Waiver("AOAI501", "no logs yet", None, None),
        Waiver("AOAI601", "legacy clients", None, date(2026, 1, 1)),
    ]
    notes = apply_waivers(findings, waivers, date(2026, 11, 21))
    assert [f.status for f in findings] == [Status.WAIVED, Status.WAIVED, Status.FAIL, Status.ERROR]
    assert findings[0].waiver is not None and findings[0].waiver["original_status"] == "warn"
    assert findings[0].waiver["expires"] == "2027-01-31"
    assert any("AOAI601 expired on 2026-01-01" in note for note in notes)
    assert any("AOAI501" in note and "matched no" in note for note in notes)  # an error is never waived


def test_expiry_day_itself_still_applies() -> None:
    findings = [_finding("AOAI403", Status.WARN)]
    apply_waivers(findings, [Waiver("AOAI403", "x", None, date(2026, 11, 21))], date(2026, 11, 21))
    assert findings[0].status is Status.WAIVED


def test_policy_hash_is_stable_and_sensitive() -> None:
    a = Policy(deployments=(RequiredDeployment("chat"),))
    b = Policy(deployments=(RequiredDeployment("chat"),))
    assert a.sha256() == b.sha256()
    assert a.sha256() != Policy(deployments=(RequiredDeployment("chat", "gpt-4o"),)).sha256()
    assert Policy.from_dict(a.to_dict(), a.catalog).sha256() == a.sha256()
