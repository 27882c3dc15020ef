"""Accounts that are ready in every respect but one, shaped like real estates (issue 10): each must
end "not ready" (exit 1) with exactly the failing check ids — before, each ended "ready" (exit 0).

- ``lz-audit``: the only diagnostic setting was created by a landing-zone policy and sends the
  ``audit`` category group (Audit only, not RequestResponse).
- ``sku-retired``: gpt-4o-mini 2024-07-18 on Standard; the model version runs 177 more days, but
  its Standard SKU retired 6 days ago.
- ``unlisted``: gpt-4o 2024-05-13 with NoAutoUpgrade in a region whose model list no longer has
  that version (what a retired version looks like once it is removed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aoai.emulator import server
from tests.conftest import FAKE_TOKEN, AoaiRunner, _base_env

SUB = "00000000-0000-0000-0000-0000000000aa"

_READY_ACCOUNT = """
[[accounts]]
name = "{name}"
subscription = "{sub}"
resource_group = "rg-lz"
location = "swedencentral"
kind = "AIServices"
custom_subdomain = "{name}"
endpoint = "https://{name}.openai.azure.com/"
public_network_access = "Disabled"
network_default_action = "Deny"
restrict_outbound_network_access = true
disable_local_auth = true
identity = "SystemAssigned"

[[accounts.deployments]]
name = "chat"
model = "{model}"
version = "{version}"
sku = "{sku}"
capacity = 10
rai_policy = "Microsoft.DefaultV2"
version_upgrade_option = "{upgrade}"

[[accounts.private_endpoint_connections]]
name = "pe-{name}.6f0c1a2b-7d3e-4f59-9a1b-2c3d4e5f6a7b"
status = "Approved"

[[accounts.diagnostic_settings]]
name = "{setting}"
workspace_id = "/subscriptions/{sub}/resourceGroups/rg-platform/providers/Microsoft.OperationalInsights/workspaces/law"
log_category_groups = ["{group}"]
metrics = ["AllMetrics"]
"""

SCENARIO = (
    f"""
[scenario]
name = "false-ready"

[[subscriptions]]
id = "{SUB}"
display_name = "landing-zone"
resource_groups = ["rg-lz"]
"""
    + _READY_ACCOUNT.format(
        name="lz-audit",
        sub=SUB,
        model="gpt-4.1",
        version="2025-04-14",
        sku="GlobalStandard",
        upgrade="OnceNewDefaultVersionAvailable",
        setting="setbypolicy",
        group="audit",
    )
    + _READY_ACCOUNT.format(
        name="sku-retired",
        sub=SUB,
        model="gpt-4o-mini",
        version="2024-07-18",
        sku="Standard",
        upgrade="OnceNewDefaultVersionAvailable",
        setting="to-law",
        group="allLogs",
    )
    + _READY_ACCOUNT.format(
        name="unlisted",
        sub=SUB,
        model="gpt-4o",
        version="2024-05-13",
        sku="GlobalStandard",
        upgrade="NoAutoUpgrade",
        setting="to-law",
        group="allLogs",
    )
    + """
[[location_models]]
location = "swedencentral"
name = "gpt-4.1"
version = "2025-04-14"
lifecycle_status = "GenerallyAvailable"
inference_in_days = 400
capabilities = { chatCompletion = "true", responses = "true" }
[[location_models.skus]]
name = "GlobalStandard"
capacity = { default = 50, maximum = 1000, minimum = 1, step = 1 }

[[location_models]]
location = "swedencentral"
name = "gpt-4o-mini"
version = "2024-07-18"
lifecycle_status = "GenerallyAvailable"
inference_in_days = 177
capabilities = { chatCompletion = "true", responses = "true" }
[[location_models.skus]]
name = "Standard"
capacity = { default = 10, maximum = 100, minimum = 1, step = 1 }
deprecation_in_days = -6
[[location_models.skus]]
name = "GlobalStandard"
capacity = { default = 50, maximum = 1000, minimum = 1, step = 1 }

[[location_models]]
location = "swedencentral"
name = "gpt-4o"
version = "2024-11-20"
lifecycle_status = "GenerallyAvailable"
inference_in_days = 230
capabilities = { chatCompletion = "true", responses = "true" }
[[location_models.skus]]
name = "GlobalStandard"
capacity = { default = 50, maximum = 1000, minimum = 1, step = 1 }
"""
    + "".join(
        f"""
[[usages]]
subscription = "{SUB}"
location = "swedencentral"
name = "{name}"
limit = 1000
current = 10
"""
        for name in ("OpenAI.GlobalStandard.gpt-4.1", "OpenAI.Standard.gpt-4o-mini", "OpenAI.GlobalStandard.gpt-4o")
    )
)


@pytest.fixture(scope="module")
def lz_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    workdir = tmp_path_factory.mktemp("lz")
    path = workdir / "false-ready.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    running = server.start(scenario=str(path), access_token=FAKE_TOKEN, workdir=workdir / "emu")
    yield running
    running.stop()


@pytest.fixture
def lz(tmp_path: Path, lz_emulator: server.RunningEmulator) -> AoaiRunner:
    env = {**_base_env(tmp_path), **lz_emulator.env, "AZURE_SUBSCRIPTION_ID": SUB, "AOAI_CREDENTIAL": "token"}
    return AoaiRunner(env, tmp_path)


def _run(lz: AoaiRunner, account: str) -> tuple[int, dict[str, list[str]]]:
    result = lz("preflight", "run", "-g", "rg-lz", "--account", account, "-o", "json")
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    by_status: dict[str, list[str]] = {}
    for finding in document["findings"]:
        by_status.setdefault(finding["status"], []).append(finding["check"])
    return result.code, by_status


def test_audit_only_landing_zone_setting_is_not_ready(lz: AoaiRunner) -> None:
    code, by_status = _run(lz, "lz-audit")
    assert code == 1
    assert by_status["fail"] == ["AOAI501"]
    assert "error" not in by_status


def test_retired_sku_behind_a_running_version_is_not_ready(lz: AoaiRunner) -> None:
    code, by_status = _run(lz, "sku-retired")
    assert code == 1
    assert by_status["fail"] == ["AOAI205", "AOAI301"]
    assert "AOAI206" in by_status["warn"] and "error" not in by_status


def test_version_the_region_no_longer_lists_is_not_ready(lz: AoaiRunner) -> None:
    code, by_status = _run(lz, "unlisted")
    assert code == 1
    assert by_status["fail"] == ["AOAI205", "AOAI206", "AOAI301"]
    assert "AOAI303" in by_status["warn"]  # no usage name from ARM for an unlisted version: not guessed
