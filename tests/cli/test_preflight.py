"""``aoai preflight`` end to end: the real CLI as a subprocess against the emulator's default
scenario (aoai-ready passes, aoai-legacy fails every area for a realistic reason)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ..conftest import FAKE_KEY, FAKE_TOKEN, AoaiRunner, Result, inject_fault

DOCS = Path(__file__).resolve().parents[2] / "docs"
TARGET = ("-g", "rg-aoai-demo")
READY = (
    *TARGET,
    "--account",
    "aoai-ready",
    "--deployment",
    "chat=gpt-4.1@2025-04-14",
    "--deployment",
    "reasoner=gpt-5-mini",
)
LEGACY = (*TARGET, "--account", "aoai-legacy", "--deployment", "gpt-4o=gpt-4o@2024-05-13")
LEGACY_FAILING = {
    "AOAI002",
    "AOAI101",
    "AOAI201",
    "AOAI205",  # mini: its Standard SKU retired 6 days ago (the model version runs 177 more days)
    "AOAI208",  # prod-chat: its custom content filter has jailbreak detection off
    "AOAI301",  # mini: the same retired SKU
    "AOAI303",
    "AOAI401",
    "AOAI402",
    "AOAI501",
    "AOAI502",
    "AOAI601",
    "AOAI602",
}


def _no_secrets(result: Result) -> None:
    assert FAKE_TOKEN not in result.output and FAKE_KEY not in result.output


def _doc(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _ids(document: dict[str, Any], status: str) -> set[str]:
    return {f["check"] for f in document["findings"] if f["status"] == status}


def test_ready_account_exits_0(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "run", *READY)
    assert result.code == 0, result.output
    document = _doc(result)  # not a TTY: JSON evidence by default
    assert document["summary"]["verdict"] == "ready"
    assert {f["status"] for f in document["findings"]} == {"pass", "skip"}
    assert document["run"]["arm_requests"] == 8  # incl. DiagnosticSettingsCategory_List, RaiPolicies_List
    filters = [f for f in document["findings"] if f["check"] == "AOAI208"]
    assert {(f["resource"], f["status"]) for f in filters} == {("chat", "pass"), ("reasoner", "pass")}
    _no_secrets(result)


def test_legacy_account_exits_1_with_exactly_the_expected_failures(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "run", *LEGACY)
    assert result.code == 1, result.output
    document = _doc(result)
    assert _ids(document, "fail") == LEGACY_FAILING
    assert _ids(document, "warn") == {"AOAI205", "AOAI206", "AOAI403"}
    assert not _ids(document, "error")
    [missing] = [f for f in document["findings"] if f["check"] == "AOAI201"]
    assert "model name used instead of deployment name" in missing["message"]
    assert "prod-chat" in missing["message"]
    filters = {f["resource"]: f for f in document["findings"] if f["check"] == "AOAI208"}
    assert filters["mini"]["status"] == "pass"  # Microsoft.DefaultV2
    weak = filters["prod-chat"]
    assert weak["status"] == "fail" and "content filter policy legacy-relaxed" in weak["message"]
    assert "jailbreak (prompt) enabled=false" in weak["message"]
    assert weak["source"]["operation"] == "RaiPolicies_List" and weak["source"]["request_id"]
    _no_secrets(result)


def test_content_filter_thresholds_from_aoai_toml(aoai: AoaiRunner, tmp_path: Path) -> None:
    config = tmp_path / "aoai.toml"
    config.write_text('[preflight.content_filters]\nmax_severity = "high"\nrequire_prompt_shield = false\n')
    result = aoai("preflight", "deployments", *LEGACY, "--only", "AOAI208", "--config", str(config))
    assert result.code == 0, result.output
    assert _ids(_doc(result), "pass") == {"AOAI208"}


def test_forbidden_rai_policies_make_aoai208_error(aoai: AoaiRunner, emulator: Any) -> None:
    inject_fault(emulator, route="arm.rai_policies.list", status=403, code="AuthorizationFailed", count=1)
    result = aoai("preflight", "deployments", *READY, "--only", "AOAI208")
    assert result.code == 4, result.output
    [error] = [f for f in _doc(result)["findings"] if f["check"] == "AOAI208"]
    assert error["status"] == "error" and "403 AuthorizationFailed" in error["message"]


def test_forbidden_part_makes_it_incomplete(aoai: AoaiRunner, emulator: Any) -> None:
    inject_fault(emulator, route="arm.diagnostic_settings.list", status=403, code="AuthorizationFailed", count=1)
    result = aoai("preflight", "run", *READY)
    assert result.code == 4, result.output
    document = _doc(result)
    assert document["summary"]["verdict"] == "incomplete"
    errors = [f for f in document["findings"] if f["status"] == "error"]
    assert {f["check"] for f in errors} == {"AOAI501", "AOAI502"}
    for finding in errors:
        assert "403 AuthorizationFailed" in finding["message"]
        assert finding["source"]["request_id"] and finding["source"]["request_id"] in finding["message"]


def test_throttled_arm_is_retried(aoai: AoaiRunner, emulator: Any) -> None:
    inject_fault(emulator, route="arm.location_models.list", status=429, retry_after=1, count=1)
    result = aoai("preflight", "deployments", *READY)
    assert result.code == 0, result.output
    assert _doc(result)["run"]["elapsed_ms"] >= 900


def test_unknown_account_exits_5(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "run", *TARGET, "--account", "no-such-account")
    assert result.code == 5
    assert result.stdout == ""
    assert result.stderr.startswith("aoai: error: account no-such-account not found")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_rejected_token_exits_3(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "network", *READY, env={"AOAI_ACCESS_TOKEN": "wrong-token-SECRET-0000"})
    assert result.code == 3, result.output
    assert "401" in result.stderr and "wrong-token-SECRET-0000" not in result.output


def test_missing_credential_exits_3(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "run", *READY, "--credential", "token", env={"AOAI_ACCESS_TOKEN": ""})
    assert result.code == 3 and "AOAI_ACCESS_TOKEN" in result.stderr


def test_evidence_validates_and_verifies_then_fails_when_tampered(aoai: AoaiRunner, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.json"
    result = aoai("preflight", "run", *LEGACY, "-o", "table", "--evidence", str(evidence))
    assert result.code == 1
    assert "Not ready" in result.stdout
    document = json.loads(evidence.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads((DOCS / "evidence.schema.json").read_text())).validate(document)
    assert FAKE_TOKEN not in evidence.read_text(encoding="utf-8")

    verified = aoai("preflight", "verify", str(evidence))
    assert verified.code == 0, verified.output
    assert "verified" in verified.stdout and "not-ready" in verified.stdout

    for finding in document["findings"]:
        if finding["check"] == "AOAI401":
            finding["status"] = "pass"
    evidence.write_text(json.dumps(document), encoding="utf-8")
    tampered = aoai("preflight", "verify", str(evidence))
    assert tampered.code == 1
    assert "digest mismatch" in tampered.stderr and "AOAI401" in tampered.stderr


def test_json_output_is_exactly_the_evidence_document(aoai: AoaiRunner, tmp_path: Path) -> None:
    evidence = tmp_path / "e.json"
    result = aoai("preflight", "identity", *READY, "-o", "json", "--evidence", str(evidence))
    printed, written = _doc(result), json.loads(evidence.read_text(encoding="utf-8"))
    assert set(printed) == set(written)
    assert printed["digest"]["algorithm"] == "sha256"
    assert [f["check"] for f in printed["findings"]] == ["AOAI601", "AOAI602", "AOAI603"]


def test_verify_bad_input(aoai_bare: AoaiRunner, tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    assert aoai_bare("preflight", "verify", str(tmp_path / "x.json")).code == 2
    assert aoai_bare("preflight", "verify", str(tmp_path / "missing.json")).code == 2
    (tmp_path / "y.json").write_text("{}", encoding="utf-8")
    result = aoai_bare("preflight", "verify", str(tmp_path / "y.json"))
    assert result.code == 1 and "schema" in result.stderr


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown", "table"])
def test_other_formats(aoai: AoaiRunner, fmt: str) -> None:
    result = aoai("preflight", "network", *LEGACY, "-o", fmt)
    assert result.code == 1, result.output
    if fmt == "sarif":
        sarif = json.loads(result.stdout)
        assert sarif["version"] == "2.1.0"
        assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"AOAI401", "AOAI402"}
    elif fmt == "junit":
        root = ET.fromstring(result.stdout)
        assert len(root.findall(".//testcase")) == 3
    else:
        assert "AOAI401" in result.stdout and "aoai-legacy" in result.stdout


def test_github_step_summary_gets_markdown(aoai: AoaiRunner, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result = aoai("preflight", "network", *LEGACY, "-o", "json", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n") and "AOAI402" in text
    assert _doc(result)["summary"]["verdict"] == "not-ready"


def test_area_command_and_selectors(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "network", *LEGACY, "--skip", "AOAI401", "--skip", "AOAI402")
    assert result.code == 0, result.output  # only the AOAI403 warning is left
    document = _doc(result)
    assert [f["check"] for f in document["findings"]] == ["AOAI401", "AOAI402", "AOAI403"]
    assert [f["status"] for f in document["findings"]] == ["skip", "skip", "warn"]
    gated = aoai("preflight", "network", *LEGACY, "--skip", "AOAI401", "--skip", "AOAI402", "--fail-on", "warn")
    assert gated.code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--only", "AOAI999"), "--only 'AOAI999' names no check"),
        (("--skip", "nowhere"), "--skip 'nowhere' names no check"),
        (("--fail-on", "sometimes"), "--fail-on"),
        (("--deployment", "=gpt-4o"), "bad --deployment"),
        (("-o", "yaml"), "yaml"),
        (("--resource-id", "/subscriptions/x/providers/Microsoft.CognitiveServices/accounts/a"), "not both"),
    ],
)
def test_usage_errors_exit_2(aoai: AoaiRunner, args: tuple[str, ...], message: str) -> None:
    result = aoai("preflight", "run", *READY, *args)
    assert result.code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr


def test_no_target_is_a_usage_error(aoai_bare: AoaiRunner) -> None:
    result = aoai_bare("preflight", "run")
    assert result.code == 2 and "no target account" in result.stderr
    result = aoai_bare("preflight", "run", "--resource-id", "/subscriptions/x/oops")
    assert result.code == 2 and "not an account resource id" in result.stderr


def test_policy_file_drives_the_run(aoai: AoaiRunner, tmp_path: Path) -> None:
    (tmp_path / "aoai.toml").write_text(
        """
[preflight]
resource_id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-aoai-demo\
/providers/Microsoft.CognitiveServices/accounts/aoai-legacy"
only = ["network"]

[[preflight.waivers]]
check = "AOAI401"
reason = "private endpoint goes live next week"
expires = 2099-01-01

[[preflight.waivers]]
check = "AOAI402"
reason = "expired acceptance"
expires = 2020-01-01
""",
        encoding="utf-8",
    )
    result = aoai("preflight", "run")
    assert result.code == 1, result.output
    document = _doc(result)
    statuses = {f["check"]: f["status"] for f in document["findings"] if f["check"].startswith("AOAI4")}
    assert statuses == {"AOAI401": "waived", "AOAI402": "fail", "AOAI403": "warn"}
    assert any("AOAI402 expired on 2020-01-01" in note for note in document["notes"])
    assert document["policy"]["resolved"]["source"].endswith("aoai.toml")


def test_bad_policy_file_exits_2_naming_key_and_line(aoai: AoaiRunner, tmp_path: Path) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_text("[preflight]\naccount = 'aoai-ready'\n\n[preflight.thresholds]\nretirement_days = 'soon'\n")
    result = aoai("preflight", "run", *TARGET, "--config", str(policy))
    assert result.code == 2
    assert f"{policy}:5: preflight.thresholds.retirement_days" in result.stderr


def test_probe_calls_each_required_deployment(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "run", *READY, "--deployment", "gpt-4o", "--probe", "--only", "AOAI701")
    assert result.code == 1, result.output
    probes = {f["resource"]: f for f in _doc(result)["findings"] if f["check"] == "AOAI701"}
    assert probes["chat"]["status"] == "pass" and probes["reasoner"]["status"] == "pass"
    assert probes["chat"]["observed"]["latency_ms"] > 0
    assert probes["gpt-4o"]["status"] == "fail" and "404" in probes["gpt-4o"]["message"]
    _no_secrets(result)


def test_debug_log_has_no_secrets(aoai: AoaiRunner) -> None:
    result = aoai("--debug", "preflight", "identity", *READY, "-o", "json")
    assert result.code == 0
    assert "Accounts_Get" in result.stderr or "request ids" in result.stderr
    _no_secrets(result)


def test_checks_and_explain(aoai_bare: AoaiRunner) -> None:
    listing = aoai_bare("preflight", "checks")
    assert listing.code == 0 and listing.stdout.count("AOAI") == 25
    rows = json.loads(aoai_bare("preflight", "checks", "-o", "json").stdout)
    assert [r["id"] for r in rows][:3] == ["AOAI001", "AOAI002", "AOAI101"]
    explained = aoai_bare("preflight", "explain", "aoai201")
    assert explained.code == 0
    assert "model name" in explained.stdout and "az cognitiveservices account deployment" in explained.stdout
    assert aoai_bare("preflight", "explain", "AOAI999").code == 2


def test_evidence_directory_is_checked_before_any_call(aoai: AoaiRunner, tmp_path: Path) -> None:
    result = aoai("preflight", "run", *READY, "--evidence", str(tmp_path / "missing" / "e.json"))
    assert result.code == 2 and "does not exist" in result.stderr
