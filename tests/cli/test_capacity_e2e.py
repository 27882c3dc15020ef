"""``aoai preflight capacity`` end to end: the real CLI in a subprocess against the emulator's
default scenario (gpt-4.1 2025-04-14 GlobalStandard: eastus2 has the most capacity but no quota,
swedencentral and westus3 fit, westeurope fits but has no Responses API, japaneast has no capacity)."""

from __future__ import annotations

import json
import re
from typing import Any

from aoai.emulator import server
from tests.conftest import FAKE_TOKEN, AoaiRunner, Result, control, inject_fault

BASE = ("preflight", "capacity", "-m", "gpt-4.1", "--version", "2025-04-14")


def _json(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _rows(document: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(row["region"], row["fits"]) for row in document["rows"]]


def _recorded(emulator: server.RunningEmulator) -> list[str]:
    return [r["path"] for r in control(emulator, "GET", "/_emulator/requests")["requests"]]


def test_first_choice_lacks_quota_and_two_others_fit(aoai: AoaiRunner) -> None:
    result = aoai(*BASE, "--sku", "GlobalStandard", "--capacity", "100", "-o", "json")
    assert result.code == 0, result.stderr
    document = _json(result)
    assert _rows(document) == [
        ("westeurope", True),
        ("westus3", True),
        ("swedencentral", True),
        ("eastus2", False),
        ("japaneast", False),
    ]
    rows = {row["region"]: row for row in document["rows"]}
    assert rows["eastus2"]["available_capacity"] == 5000 and rows["eastus2"]["quota_left"] == 10
    assert rows["eastus2"]["usage_name"] == "OpenAI.GlobalStandard.gpt-4.1"
    assert rows["swedencentral"]["quota_left"] == 950 and rows["westus3"]["quota_left"] == 1000
    assert rows["japaneast"]["available_capacity"] == 0 and "no capacity" in rows["japaneast"]["notes"]
    assert rows["swedencentral"]["lifecycle"] == "GenerallyAvailable" and rows["swedencentral"]["retiring"] is False
    assert rows["westeurope"]["responses_api"] is False and rows["westus3"]["responses_api"] is True
    assert document["fits"] == 3 and document["exit_code"] == 0 and document["arm"]["requests"] == 11
    assert len(document["arm"]["model_capacities_request_ids"]) == 1
    assert FAKE_TOKEN not in result.output


def test_table_output(aoai: AoaiRunner) -> None:
    result = aoai(*BASE, "--capacity", "100", "-o", "table")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gpt-4.1 2025-04-14 (OpenAI) · every SKU · capacity 100 · subscription ")
    assert [line.split()[0] for line in lines[3:8]] == [
        "westeurope",
        "westus3",
        "swedencentral",
        "eastus2",
        "japaneast",
    ]
    assert re.search(
        r"eastus2\s+GlobalStandard\s+5000\s+10 of 1000\s+no\s+GA\s+yes\s+quota short \(10 left\)", result.stdout
    )
    assert "3 of 5 regions fit gpt-4.1 2025-04-14 (any SKU, capacity 100) (exit 0)" in result.stdout
    assert "\x1b[" not in result.stdout


def test_no_region_fits_exits_1(aoai: AoaiRunner) -> None:
    result = aoai(*BASE, "--capacity", "1200", "-o", "json")
    assert result.code == 1, result.stderr
    document = _json(result)
    assert document["fits"] == 0 and not any(fits for _region, fits in _rows(document))
    assert "aoai: 0 of 5 regions fit gpt-4.1 2025-04-14" in result.stderr


def test_responses_only_drops_westeurope_before_reading_it(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    before = len(_recorded(emulator))
    result = aoai(*BASE, "--capacity", "100", "--responses-only", "-o", "json")
    assert result.code == 0, result.stderr
    document = _json(result)
    assert _rows(document) == [("westus3", True), ("swedencentral", True), ("eastus2", False), ("japaneast", False)]
    assert document["skipped"] == [
        {"region": "westeurope", "sku": "GlobalStandard", "reason": "no Responses API in this region (catalog)"}
    ]
    paths = _recorded(emulator)[before:]
    assert not any("/locations/westeurope/" in p for p in paths)
    assert len(paths) == document["arm"]["requests"] == 9


def test_version_omitted_uses_the_default_version(aoai: AoaiRunner) -> None:
    result = aoai(
        "preflight", "capacity", "-m", "gpt-4.1", "--regions", "swedencentral, japaneast,westus", "-o", "json"
    )
    assert result.code == 0, result.stderr
    document = _json(result)
    assert document["model"]["version"] == "2025-04-14" and document["model"]["version_source"] == "default"
    assert [(r["region"], r["offered"], r["fits"]) for r in document["rows"]] == [
        ("swedencentral", True, True),
        ("japaneast", True, False),
        ("westus", False, False),
    ]


def test_retirement_window(aoai: AoaiRunner) -> None:
    result = aoai(*BASE, "--regions", "swedencentral", "--retirement-days", "500", "-o", "json")
    (row,) = _json(result)["rows"]
    assert row["retiring"] is True and 395 <= row["retires_in_days"] <= 400
    assert any(note.startswith("retires ") for note in row["notes"])


def test_model_offered_nowhere_exits_5(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "capacity", "-m", "gpt-9", "--version", "2030-01-01")
    assert result.code == 5
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "aoai: error: gpt-9 2030-01-01 is not offered in any region (ModelCapacities_List listed none) — check "
        "-m/--version (`az cognitiveservices model list -l REGION` lists a region's models)"
    )
    unknown = aoai("preflight", "capacity", "-m", "gpt-9")
    assert unknown.code == 5 and "pass --version" in unknown.stderr


def test_usage_errors_exit_2(aoai: AoaiRunner, aoai_bare: AoaiRunner) -> None:
    for args, message in (
        (("--capacity", "0"), "--capacity must be a positive number"),
        (("--capacity", "-3"), "--capacity must be a positive number"),
        (("--regions", "sweden-central"), "'sweden-central' is not an Azure region name"),
        (("-o", "xml"), "'xml' is not one of table, json"),
        (("--capacity", "lots"), "Invalid value for '--capacity'"),
    ):
        result = aoai(*BASE, *args)
        assert result.code == 2, (args, result.output)
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    missing = aoai("preflight", "capacity", "--capacity", "5")
    assert missing.code == 2 and "-m" in missing.stderr
    bare = aoai_bare(*BASE)
    assert bare.code == 2 and "no subscription given" in bare.stderr


def test_a_rejected_token_exits_3_without_printing_it(aoai: AoaiRunner) -> None:
    wrong = "wrong-token-SECRET-0042-do-not-print"
    result = aoai(*BASE, env={"AOAI_ACCESS_TOKEN": wrong})
    assert result.code == 3
    assert "401" in result.stderr and "ModelCapacities_List" in result.stderr
    assert wrong not in result.output and FAKE_TOKEN not in result.output


def test_refused_usages_exit_3(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.usages.list", status=403, code="AuthorizationFailed", count=-1)
    result = aoai(*BASE, "--capacity", "100", "-o", "json")
    assert result.code == 3, result.output
    document = _json(result)
    assert document["fits"] == 0 and all(row["quota_left"] is None for row in document["rows"])
    assert "aoai: warning: swedencentral/GlobalStandard: quota unknown: Usages_List failed (403" in result.stderr


def test_arm_failing_after_retries_exits_4(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.model_capacities.list", status=503, retry_after_ms=1, count=-1)
    result = aoai(*BASE)
    assert result.code == 4
    assert "ModelCapacities_List for subscription" in result.stderr and "failed after retries" in result.stderr
    assert "503" in result.stderr and "Traceback" not in result.stderr


def test_a_transient_failure_is_retried(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.usages.list", status=429, retry_after_ms=1, count=2)
    result = aoai(*BASE, "--capacity", "100", "-o", "json")
    assert result.code == 0, result.output
    assert _json(result)["arm"]["requests"] == 13


def test_refused_model_capacities_exit_3(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.model_capacities.list", status=403, code="AuthorizationFailed", count=-1)
    result = aoai(*BASE)
    assert result.code == 3 and result.stdout == ""
    assert "ARM refused ModelCapacities_List for subscription" in result.stderr
    assert "Microsoft.CognitiveServices/modelCapacities/read" in result.stderr
