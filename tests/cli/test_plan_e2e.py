"""``aoai preflight plan`` end to end: the real CLI as a subprocess against the emulator (default
scenario), on What-If documents edited from the reference sample and on Terraform plans built
from the documented ``terraform show -json`` format."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..conftest import FAKE_KEY, FAKE_TOKEN, AoaiRunner, Result, control
from ..preflight.plan.fixtures import (
    RG,
    SUB,
    account_change,
    account_id,
    add_deployment,
    tf_account,
    tf_change,
    tf_deployment,
    tf_new_account_plan,
    tf_plan,
    whatif_for_emulator,
    whatif_sample,
    write,
)

READY = account_id("aoai-ready")
LEGACY = account_id("aoai-legacy")


def _doc(result: Result) -> dict[str, Any]:
    assert FAKE_TOKEN not in result.output and FAKE_KEY not in result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _ids(document: dict[str, Any], status: str) -> set[str]:
    return {f["check"] for f in document["findings"] if f["status"] == status}


def _finding(document: dict[str, Any], check: str, resource: str | None = None) -> dict[str, Any]:
    return next(
        f for f in document["findings"] if f["check"] == check and (resource is None or f["resource"] == resource)
    )


def _arm_requests(emulator: Any) -> int:
    items = control(emulator, "GET", "/_emulator/requests")["requests"]
    return sum(1 for r in items if r["path"].startswith(("/subscriptions", "/providers")))


def _failing_whatif() -> dict[str, Any]:
    """A new account in westeurope (no Responses API), with a retired model version and a
    capacity the gpt-4o Standard quota cannot hold (95 of 100 used there)."""
    document = whatif_for_emulator("aoai-planned", "westeurope")
    add_deployment(document, account_id("aoai-planned"), "legacy", "gpt-35-turbo", "0613", "Standard", 10)
    return document


def test_whatif_file_fails_for_region_retired_version_quota_and_capacity(
    aoai: AoaiRunner, tmp_path: Path, emulator: Any
) -> None:
    path = write(tmp_path, _failing_whatif())
    control(emulator, "DELETE", "/_emulator/requests")
    result = aoai("preflight", "plan", str(path), "--evidence", str(tmp_path / "evidence.json"))
    assert result.code == 1, result.output
    document = _doc(result)
    # AOAI301: gpt-35-turbo 0613's Standard SKU retired 120 days ago (the effective retirement, issue 10).
    assert _ids(document, "fail") == {
        "AOAI101",
        "AOAI204",
        "AOAI205",
        "AOAI301",
        "AOAI303",
        "AOAI304",
        "AOAI401",
        "AOAI402",
    }
    assert "deprecated" in _finding(document, "AOAI205", "legacy")["message"]
    quota = _finding(document, "AOAI303", "gpt-4o")
    assert quota["status"] == "fail" and "the plan adds 50" in quota["message"]
    assert quota["observed"]["planned_addition"] == 50
    # New resources are not yet provisioned: unknown until apply, never pass.
    assert {f["status"] for f in document["findings"] if f["check"] in ("AOAI001", "AOAI203")} == {"skip"}
    assert document["kind"] == "plan"
    assert document["plan"]["format"] == "arm-whatif"
    assert {r["name"] for r in document["plan"]["resources"]} >= {"aoai-planned", "gpt-4o", "legacy", "to-law"}
    # Region data only (the account does not exist yet): models, usages, one ModelCapacities_List per
    # model version, all in one round trip.
    assert document["run"]["arm_requests"] == _arm_requests(emulator) == 2 + 4
    verified = aoai("preflight", "verify", str(tmp_path / "evidence.json"))
    assert verified.code == 0, verified.output


def test_terraform_plan_file_fails_for_capacity_the_region_does_not_have(aoai: AoaiRunner, tmp_path: Path) -> None:
    plan = tf_new_account_plan(
        "aoai-tf",
        "japaneast",
        [("chat", "gpt-4.1", "2025-04-14", "GlobalStandard", 100), ("mini", "gpt-5-mini", None, "GlobalStandard", 10)],
    )
    plan["configuration"]["provider_config"]["azurerm"]["expressions"]["subscription_id"] = {"constant_value": SUB}
    path = write(tmp_path, plan)
    result = aoai("preflight", "plan", str(path), "--deployment", "chat=gpt-4.1@2025-04-14")
    assert result.code == 1, result.output
    document = _doc(result)
    assert _ids(document, "fail") == {"AOAI304", "AOAI402", "AOAI501", "AOAI502"}
    assert "0 is available" in _finding(document, "AOAI304", "chat")["message"]
    assert _finding(document, "AOAI201", "chat")["status"] == "pass"
    # A version left to the service default is unknown until apply: every check reading it skips.
    for check in ("AOAI205", "AOAI206", "AOAI301", "AOAI304"):
        assert _finding(document, check, "mini")["status"] == "skip"
        assert "unknown until apply" in _finding(document, check, "mini")["message"]
    assert document["targets"][0]["resource_id"] == account_id("aoai-tf")
    assert document["plan"]["format"] == "terraform"


def test_capacity_increase_beyond_quota_on_an_existing_deployment(aoai: AoaiRunner, tmp_path: Path) -> None:
    dep_id = f"{LEGACY}/deployments/prod-chat"
    before = {**tf_deployment("prod-chat", "gpt-4o", "2024-05-13", "Standard", 80, LEGACY), "id": dep_id}
    after = {**before, "sku": [{**before["sku"][0], "capacity": 100}]}
    path = write(
        tmp_path,
        tf_plan(
            [
                tf_change(
                    "azurerm_cognitive_deployment.chat",
                    "azurerm_cognitive_deployment",
                    ["update"],
                    after,
                    before=before,
                )
            ]
        ),
    )
    result = aoai("preflight", "plan", str(path), "--only", "AOAI303")
    assert result.code == 1, result.output
    quota = _finding(_doc(result), "AOAI303", "prod-chat")
    assert quota["status"] == "fail"
    assert quota["observed"] == {
        "usage": "OpenAI.Standard.gpt-4o",
        "limit": 100.0,
        "current": 95.0,
        "free_percent": 0.0,
        "planned_addition": 20.0,
        "after_apply": 115.0,
    }


def test_public_network_access_enabled_by_the_change(aoai: AoaiRunner, tmp_path: Path) -> None:
    document = whatif_sample()
    change = copy.deepcopy(account_change(document))
    change["changeType"] = "Modify"
    change["resourceId"] = READY
    change["after"].update(id=READY, name="aoai-ready", location="swedencentral", kind="AIServices")
    change["after"]["properties"].update(publicNetworkAccess="Enabled", networkAcls={"defaultAction": "Allow"})
    document["changes"] = [change]
    result = aoai("preflight", "plan", str(write(tmp_path, document)), "--only", "network", "--only", "account")
    assert result.code == 1, result.output
    document = _doc(result)
    assert _ids(document, "fail") == {"AOAI401"}
    account = next(s for s in document["snapshot"])["parts"]["account"]
    assert account["operation"] == "Accounts_Get+WhatIf" and account["request_ids"]  # ARM's, with the plan applied
    assert _finding(document, "AOAI001")["status"] == "pass"  # provisioningState from ARM: the account exists


def test_a_deployment_deleted_that_the_policy_requires(aoai: AoaiRunner, tmp_path: Path) -> None:
    document = whatif_sample()
    delete = {
        "resourceId": f"{READY}/deployments/chat",
        "changeType": "Delete",
        "after": None,
        "delta": None,
        "before": {
            "id": f"{READY}/deployments/chat",
            "name": "chat",
            "type": "Microsoft.CognitiveServices/accounts/deployments",
        },
    }
    document["changes"] = [delete]
    result = aoai(
        "preflight", "plan", str(write(tmp_path, document)), "--deployment", "chat", "--deployment", "reasoner"
    )
    assert result.code == 1, result.output
    document = _doc(result)
    assert _ids(document, "fail") == {"AOAI201"}
    assert _finding(document, "AOAI201", "chat")["status"] == "fail"
    assert _finding(document, "AOAI201", "reasoner")["status"] == "pass"  # ARM's deployment the plan leaves alone


def test_unknown_values_skip_never_pass(aoai: AoaiRunner, tmp_path: Path) -> None:
    document = whatif_for_emulator("aoai-planned", "swedencentral")
    props = account_change(document)["after"]["properties"]
    props["publicNetworkAccess"] = "[parameters('publicNetworkAccess')]"
    props["disableLocalAuth"] = "[variables('keys')]"
    result = aoai("preflight", "plan", str(write(tmp_path, document)), "--only", "network", "--only", "identity")
    document = _doc(result)
    for check in ("AOAI401", "AOAI601"):
        finding = _finding(document, check)
        assert finding["status"] == "skip" and finding["message"].startswith("Unknown until apply"), finding


def test_offline_reads_nothing_and_says_the_verdict_is_partial(aoai: AoaiRunner, tmp_path: Path, emulator: Any) -> None:
    path = write(tmp_path, _failing_whatif())
    control(emulator, "DELETE", "/_emulator/requests")
    result = aoai(
        "preflight",
        "plan",
        str(path),
        "--offline",
        "--evidence",
        str(tmp_path / "offline.json"),
        env={"AOAI_ACCESS_TOKEN": "", "AOAI_ARM_ENDPOINT": "https://192.0.2.1"},
    )
    assert result.code == 1, result.output
    assert _arm_requests(emulator) == 0
    document = _doc(result)
    assert document["summary"]["partial"] is True and document["run"]["arm_requests"] == 0
    assert document["principal"] is None
    assert any(note.startswith("Partial verdict") for note in document["notes"])
    # The plan alone decides the region, the Responses catalog, network and identity settings.
    assert _ids(document, "fail") == {"AOAI101", "AOAI204", "AOAI401", "AOAI402"}
    for check in ("AOAI205", "AOAI301", "AOAI303", "AOAI304"):
        assert {f["status"] for f in document["findings"] if f["check"] == check} == {"skip"}
        assert "--offline" in _finding(document, check)["message"]
    verified = aoai(
        "preflight", "verify", str(tmp_path / "offline.json"), env={"AOAI_ARM_ENDPOINT": "https://192.0.2.1"}
    )
    assert verified.code == 0, verified.output


def test_offline_on_an_existing_account_does_not_guess_what_arm_holds(aoai: AoaiRunner, tmp_path: Path) -> None:
    dep = tf_deployment("extra", "gpt-4.1", "2025-04-14", "GlobalStandard", 10, READY)
    path = write(
        tmp_path,
        tf_plan([tf_change("azurerm_cognitive_deployment.extra", "azurerm_cognitive_deployment", ["create"], dep)]),
    )
    result = aoai("preflight", "plan", str(path), "--offline", "--deployment", "chat", "--deployment", "extra")
    document = _doc(result)
    assert result.code == 0, result.output
    assert _finding(document, "AOAI201", "extra")["status"] == "pass"
    chat = _finding(document, "AOAI201", "chat")
    assert chat["status"] == "skip" and "not read" in chat["message"]  # it may exist in ARM
    assert _finding(document, "AOAI401")["status"] == "skip"


def test_stdin_and_no_relevant_resources(aoai: AoaiRunner, tmp_path: Path, emulator: Any) -> None:
    from ..conftest import REFERENCE

    rg = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-app"
    storage_id = f"{rg}/providers/Microsoft.Storage/storageAccounts/stapp"
    bodies = [
        {
            "status": "Succeeded",
            "changes": [
                {
                    "resourceId": storage_id,
                    "changeType": "Create",
                    "after": {"id": storage_id, "type": "Microsoft.Storage/storageAccounts", "location": "eastus2"},
                }
            ],
        }
    ]
    sample = REFERENCE / "iac" / "PostDeploymentWhatIfOnResourceGroup.2025-04-01.json"
    if sample.is_file():  # the official example too, when the reference folder is beside the checkout
        bodies.append(json.loads(sample.read_text())["responses"]["200"]["body"])
    for body in bodies:
        control(emulator, "DELETE", "/_emulator/requests")
        result = aoai("preflight", "plan", "-", input=json.dumps(body))
        assert result.code == 5, result.output
        [line] = result.stderr.strip().splitlines()
        assert "holds no Azure OpenAI / AI Services account or deployment" in line
        assert "azurerm_cognitive_account" in line and "Microsoft.CognitiveServices/accounts" in line
        assert _arm_requests(emulator) == 0


def test_malformed_and_truncated_plans_are_one_line_exit_2_nothing_sent(
    aoai: AoaiRunner, tmp_path: Path, emulator: Any
) -> None:
    text = json.dumps(_failing_whatif())
    cases = {
        "truncated.json": text[: len(text) // 2],
        "empty.json": "",
        "nan.json": '{"format_version": "1.2", "resource_changes": [], "x": NaN}',
        "tfv2.json": json.dumps({**tf_plan([]), "format_version": "2.0"}),
        "neither.json": '{"hello": "world"}',
        "log.json": '{"@level":"info","@message":"Terraform 1.9.5"}\n{"@level":"info","@message":"planned"}\n',
        "bad-action.json": json.dumps(
            tf_plan(
                [tf_change("azurerm_cognitive_account.a", "azurerm_cognitive_account", [], tf_account("a", "eastus2"))]
            )
        ),
    }
    control(emulator, "DELETE", "/_emulator/requests")
    for name, body in cases.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
        result = aoai("preflight", "plan", str(tmp_path / name))
        assert result.code == 2, (name, result.output)
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)
        assert result.stderr.startswith("aoai: error: "), result.stderr
    assert _arm_requests(emulator) == 0
    assert "truncated" in aoai("preflight", "plan", str(tmp_path / "truncated.json")).stderr
    assert "terraform show -json" in aoai("preflight", "plan", str(tmp_path / "log.json")).stderr
    assert aoai("preflight", "plan", str(tmp_path / "missing.json")).code == 2


def test_new_terraform_account_needs_a_subscription_to_read_region_data(aoai: AoaiRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        tf_new_account_plan("aoai-tf", "swedencentral", [("chat", "gpt-4.1", "2025-04-14", "GlobalStandard", 10)]),
    )
    result = aoai("preflight", "plan", str(path), env={"AZURE_SUBSCRIPTION_ID": ""})
    assert result.code == 2 and "--subscription" in result.stderr, result.output
    ok = aoai("preflight", "plan", str(path), "--subscription", SUB, "-o", "json")
    assert ok.code in (0, 1), ok.output
    assert _doc(ok)["targets"][0]["resource_group"] == RG


def test_terraform_update_of_an_existing_account_and_values_unknown_until_apply(
    aoai: AoaiRunner, tmp_path: Path
) -> None:
    before = {**tf_account("aoai-ready", "swedencentral"), "id": READY, "kind": "AIServices"}
    opened = {**before, "public_network_access_enabled": True, "network_acls": []}
    account = tf_change(
        "azurerm_cognitive_account.ready", "azurerm_cognitive_account", ["update"], opened, before=before
    )
    result = aoai(
        "preflight", "plan", str(write(tmp_path, tf_plan([account]))), "--only", "AOAI401", "--only", "AOAI601"
    )
    assert result.code == 1, result.output
    document = _doc(result)
    assert _ids(document, "fail") == {"AOAI401"} and _ids(document, "pass") == {"AOAI601"}
    assert document["snapshot"][0]["parts"]["account"]["operation"] == "Accounts_Get+TerraformPlan"

    unknown = tf_change(
        "azurerm_cognitive_account.ready",
        "azurerm_cognitive_account",
        ["update"],
        {k: v for k, v in opened.items() if k != "public_network_access_enabled"},
        before=before,
        after_unknown={"public_network_access_enabled": True},
    )
    grow = tf_deployment("chat", "gpt-4.1", "2025-04-14", "GlobalStandard", 50, READY)
    capacity = tf_change(
        "azurerm_cognitive_deployment.chat",
        "azurerm_cognitive_deployment",
        ["update"],
        {**grow, "sku": [{"name": "GlobalStandard", "capacity": None}]},
        before=grow,
        after_unknown={"sku": [{"capacity": True}]},
    )
    result = aoai(
        "preflight",
        "plan",
        str(write(tmp_path, tf_plan([unknown, capacity]))),
        "--only",
        "AOAI401",
        "--only",
        "AOAI303",
        "--only",
        "AOAI304",
    )
    document = _doc(result)
    assert result.code == 0, result.output
    assert _finding(document, "AOAI401")["message"].startswith("Unknown until apply: properties.publicNetworkAccess")
    for check in ("AOAI303", "AOAI304"):
        finding = _finding(document, check, "chat")
        assert finding["status"] == "skip" and "unknown until apply" in finding["message"], finding
    assert _finding(document, "AOAI303", "reasoner")["status"] == "pass"  # another usage name: decided
