"""Scenarios: the built-in `default` (the contract in DEFAULT_SCENARIO.md), `fleet:N`, and the TOML
format with its one-line errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from aoai.emulator.scenario import FLEET_LOCATIONS, Scenario, load_scenario, scenario_from_toml

NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
SUB1 = "00000000-0000-0000-0000-000000000001"
SUB2 = "00000000-0000-0000-0000-000000000002"


@pytest.fixture(scope="module")
def default() -> Scenario:
    return load_scenario("default", now=NOW)


def days(n: int) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


# --- default -----------------------------------------------------------------------------------


def test_default_subscriptions_and_tenant(default: Scenario) -> None:
    assert default.name == "default"
    assert default.tenant_id == "72f988bf-0000-0000-0000-000000000000"
    assert default.default_subscription == SUB1
    assert [s.id for s in default.subscriptions] == [SUB1, SUB2]
    assert default.subscriptions[0].display_name == "aoai-demo"
    assert default.accounts_in(SUB2) == []
    assert default.has_resource_group(SUB1, "rg-aoai-demo")
    assert default.has_resource_group(SUB1, "RG-AOAI-DEMO")  # ARM names are case-insensitive


def test_default_ready_account(default: Scenario) -> None:
    a = default.account(SUB1, "rg-aoai-demo", "aoai-ready")
    assert a is not None
    assert (a.location, a.kind, a.sku_name, a.provisioning_state) == ("swedencentral", "AIServices", "S0", "Succeeded")
    assert a.custom_subdomain == "aoai-ready"
    assert a.endpoint == "https://aoai-ready.openai.azure.com/"
    assert (a.public_network_access, a.network_default_action) == ("Disabled", "Deny")
    assert a.restrict_outbound_network_access is True
    assert [(p.status) for p in a.private_endpoint_connections] == ["Approved"]
    [setting] = a.diagnostic_settings
    assert setting.name == "to-law" and setting.workspace_id
    assert [(x.category_group, x.enabled) for x in setting.logs] == [("allLogs", True)]
    assert [(m.category, m.enabled) for m in setting.metrics] == [("AllMetrics", True)]
    assert a.disable_local_auth is True
    assert a.identity_type == "SystemAssigned" and a.principal_id
    assert a.encryption_key_source == "Microsoft.CognitiveServices"
    chat, reasoner = a.deployments
    assert (chat.name, chat.model_format, chat.model_name, chat.model_version) == (
        "chat",
        "OpenAI",
        "gpt-4.1",
        "2025-04-14",
    )
    assert (chat.sku_name, chat.capacity, chat.rai_policy_name) == ("GlobalStandard", 50, "Microsoft.DefaultV2")
    assert chat.version_upgrade_option == "OnceNewDefaultVersionAvailable"
    assert (reasoner.name, reasoner.model_name, reasoner.model_version) == ("reasoner", "gpt-5-mini", "2025-08-07")
    assert (reasoner.sku_name, reasoner.capacity, reasoner.rai_policy_name) == (
        "GlobalStandard",
        100,
        "Microsoft.DefaultV2",
    )


def test_default_legacy_account(default: Scenario) -> None:
    a = default.account(SUB1, "rg-aoai-demo", "aoai-legacy")
    assert a is not None
    assert (a.location, a.kind, a.sku_name, a.custom_subdomain) == ("westeurope", "OpenAI", "S0", None)
    assert (a.public_network_access, a.network_default_action) == ("Enabled", "Allow")
    assert [p.status for p in a.private_endpoint_connections] == ["Pending"]
    assert a.restrict_outbound_network_access is False
    [setting] = a.diagnostic_settings  # a landing-zone policy's: the audit category group only
    assert [(log.category_group, log.enabled) for log in setting.logs] == [("audit", True)] and not setting.metrics
    assert a.disable_local_auth is False
    assert a.identity_type == "None" and a.principal_id is None
    d, mini = a.deployments
    assert (mini.name, mini.model_name, mini.model_version, mini.sku_name) == (
        "mini",
        "gpt-4o-mini",
        "2024-07-18",
        "Standard",
    )
    assert (d.name, d.model_name, d.model_version, d.sku_name, d.capacity) == (
        "prod-chat",
        "gpt-4o",
        "2024-05-13",
        "Standard",
        80,
    )
    assert d.rai_policy_name == "legacy-relaxed" and d.version_upgrade_option == "NoAutoUpgrade"
    [relaxed] = a.rai_policies
    assert (relaxed.name, relaxed.base_policy) == ("legacy-relaxed", "Microsoft.DefaultV2")
    assert {"name": "Jailbreak", "blocking": False, "enabled": False, "source": "Prompt"} in relaxed.filters


def test_default_location_models_are_relative_to_start(default: Scenario) -> None:
    sweden = {(m.name, m.version): m for m in default.models_in("swedencentral")}
    assert sweden["gpt-4.1", "2025-04-14"].inference_deprecation == days(400)
    assert sweden["gpt-5-mini", "2025-08-07"].inference_deprecation == days(500)
    for model in sweden.values():
        assert model.lifecycle_status == "GenerallyAvailable"
        assert {s.name for s in model.skus} == {"GlobalStandard", "Standard"}
        assert all(s.capacity_maximum for s in model.skus)
    europe = {(m.name, m.version): m for m in default.models_in("West Europe")}
    old = europe["gpt-4o", "2024-05-13"]
    assert old.lifecycle_status == "Deprecating" and old.inference_deprecation == days(40)
    assert (old.replacement_model, old.replacement_version) == ("gpt-4.1", "2025-04-14")
    assert europe["gpt-4o", "2024-11-20"].lifecycle_status == "GenerallyAvailable"
    assert europe["gpt-4.1", "2025-04-14"].lifecycle_status == "GenerallyAvailable"
    assert europe["gpt-35-turbo", "0613"].lifecycle_status == "Deprecated"
    assert [s.usage_name for s in sweden["gpt-4.1", "2025-04-14"].skus] == [
        "OpenAI.GlobalStandard.gpt-4.1",
        "OpenAI.Standard.gpt-4.1",
    ]
    # Another start time moves every date with it.
    later = load_scenario("default", now=days(100))
    moved = {(m.name, m.version): m for m in later.models_in("westeurope")}
    assert moved["gpt-4o", "2024-05-13"].inference_deprecation == days(140)


def test_default_usages_and_capacities(default: Scenario) -> None:
    def usage(location: str) -> dict[str, tuple[int, int]]:
        return {u.name: (u.limit, u.current) for u in default.usages_in(SUB1, location)}

    assert usage("swedencentral") == {
        "OpenAI.GlobalStandard.gpt-4.1": (1000, 50),
        "OpenAI.GlobalStandard.gpt-5-mini": (1000, 100),
    }
    assert usage("westeurope")["OpenAI.Standard.gpt-4o"] == (100, 95)
    assert usage("eastus2")["OpenAI.GlobalStandard.gpt-4.1"] == (1000, 990)
    assert usage("westus3")["OpenAI.GlobalStandard.gpt-4.1"] == (1000, 0)
    capacities = {c.location: c.available_capacity for c in default.capacities_for("OpenAI", "gpt-4.1", "2025-04-14")}
    assert capacities == {"eastus2": 5000, "swedencentral": 2000, "westus3": 1500, "westeurope": 3000, "japaneast": 0}
    assert all(c.sku_name == "GlobalStandard" for c in default.capacities_for("OpenAI", "gpt-4.1", "2025-04-14"))


def test_default_data_plane_deployments(default: Scenario) -> None:
    for name, model in (("chat", "gpt-4.1"), ("reasoner", "gpt-5-mini"), ("prod-chat", "gpt-4o")):
        found = default.data_plane_deployment(name)
        assert found is not None and found.name == name and found.model_name == model
    assert default.data_plane_deployment("gpt-4o") is None


# --- fleet:N -----------------------------------------------------------------------------------


def test_fleet_is_deterministic_and_sized() -> None:
    first = load_scenario("fleet:120", now=NOW)
    again = load_scenario("fleet:120", now=NOW)
    assert dataclasses.asdict(first) == dataclasses.asdict(again)
    assert len(first.accounts) == 120
    assert len(first.subscriptions) == 4
    assert first.default_subscription == first.subscriptions[0].id
    assert {a.subscription_id for a in first.accounts} == {s.id for s in first.subscriptions}
    assert {a.location for a in first.accounts} <= set(FLEET_LOCATIONS)
    assert len({a.location for a in first.accounts}) >= 5
    assert len({a.id.lower() for a in first.accounts}) == 120
    for account in first.accounts:
        assert 1 <= len(account.deployments) <= 3
        names = [d.name for d in account.deployments]
        assert len(set(names)) == len(names)
    other = load_scenario("fleet:121", now=NOW)
    assert dataclasses.asdict(other.accounts[0]) != dataclasses.asdict(first.accounts[0]) or len(other.accounts) == 121


def test_fleet_mixes_ready_and_failing_traits() -> None:
    fleet = load_scenario("fleet:200", now=NOW)
    accounts = fleet.accounts
    assert {a.public_network_access for a in accounts} == {"Enabled", "Disabled"}
    assert {a.disable_local_auth for a in accounts} == {True, False}
    assert any(not a.diagnostic_settings for a in accounts) and any(a.diagnostic_settings for a in accounts)
    statuses = {p.status for a in accounts for p in a.private_endpoint_connections}
    assert {"Approved", "Pending"} <= statuses
    assert any(a.location == "westeurope" for a in accounts)  # a popular region without the Responses API
    ready = [
        a
        for a in accounts
        if a.public_network_access == "Disabled"
        and a.disable_local_auth
        and a.identity_type == "SystemAssigned"
        and a.diagnostic_settings
        and all(p.status == "Approved" for p in a.private_endpoint_connections)
        and a.private_endpoint_connections
    ]
    assert 20 <= len(ready) <= 150
    # Every deployed model has location model data, and usages exist for every deployment.
    for account in accounts[:40]:
        models = {(m.name, m.version) for m in fleet.models_in(account.location)}
        usage_names = {u.name for u in fleet.usages_in(account.subscription_id, account.location)}
        for d in account.deployments:
            assert (d.model_name, d.model_version) in models
            assert f"OpenAI.{d.sku_name}.{d.model_name}" in usage_names


@pytest.mark.parametrize("name", ["fleet:0", "fleet:x", "fleet:", "fleet:-3", "fleet:999999"])
def test_fleet_bad_size(name: str) -> None:
    with pytest.raises(ValueError, match="fleet:N"):
        load_scenario(name)


def test_unknown_scenario_name() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        load_scenario("nope")


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        load_scenario(str(tmp_path / "absent.toml"))


# --- TOML ---------------------------------------------------------------------------------------

FULL = """
[scenario]
name = "cmk"
tenant_id = "11111111-2222-3333-4444-555555555555"

[limits]
deployments_page_size = 5
subscription_reads = 40

[[subscriptions]]
id = "aaaaaaaa-0000-0000-0000-000000000001"
display_name = "one"
management_groups = ["mg-prod"]
forbidden = ["usages"]

[[accounts]]
name = "acct"
resource_group = "rg"
location = "Sweden Central"
kind = "AIServices"
custom_subdomain = "acct"
identity = "SystemAssigned, UserAssigned"
user_assigned_identities = [
  "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai",
]
encryption_key_source = "Microsoft.KeyVault"
key_vault_uri = "https://kv.vault.azure.net/"
key_name = "cmk"
network_default_action = "None"
forbidden = ["diagnostic_settings"]
created = 2025-03-01

[[accounts.deployments]]
name = "d1"
model = "gpt-4.1"
version = "2025-04-14"
sku = "GlobalStandard"
capacity = 30

[[accounts.diagnostic_settings]]
name = "mixed"
storage_account_id = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs"
[[accounts.diagnostic_settings.logs]]
category = "Audit"
enabled = true
[[accounts.diagnostic_settings.logs]]
category_group = "allLogs"
enabled = false
[[accounts.diagnostic_settings.metric_settings]]
category = "AllMetrics"
enabled = false

[[location_models]]
location = "swedencentral"
name = "gpt-4.1"
version = "2025-04-14"
inference = 2027-05-01
fine_tune = "2027-01-01T00:00:00Z"
[[location_models.skus]]
name = "GlobalStandard"
deprecation_in_days = 10
"""


def test_toml_full_format() -> None:
    s = scenario_from_toml(FULL, now=NOW)
    assert (s.name, s.tenant_id) == ("cmk", "11111111-2222-3333-4444-555555555555")
    assert s.limits.deployments_page_size == 5 and s.limits.subscription_reads == 40
    sub = s.subscriptions[0]
    assert sub.forbidden == {"usages"} and sub.management_groups == ["mg-prod"] and sub.resource_groups == ["rg"]
    [a] = s.accounts
    assert a.subscription_id == sub.id  # the first subscription by default
    assert a.location == "swedencentral"
    assert a.identity_type == "SystemAssigned, UserAssigned" and a.principal_id
    assert (a.encryption_key_source, a.key_name) == ("Microsoft.KeyVault", "cmk")
    assert a.network_default_action is None
    assert a.forbidden == {"diagnostic_settings"}
    assert a.created_at == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    [setting] = a.diagnostic_settings
    assert [(x.category, x.category_group, x.enabled) for x in setting.logs] == [
        ("Audit", None, True),
        (None, "allLogs", False),
    ]
    assert [(m.category, m.enabled) for m in setting.metrics] == [("AllMetrics", False)]
    [model] = s.location_models
    assert model.inference_deprecation == dt.datetime(2027, 5, 1, tzinfo=dt.UTC)
    assert model.fine_tune_deprecation == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert model.skus[0].deprecation_date == days(10)
    assert model.skus[0].usage_name == "OpenAI.GlobalStandard.gpt-4.1"
    # Usage derived from the deployment when the scenario lists none for it.
    assert [(u.name, u.current, u.limit) for u in s.usages_in(sub.id, "swedencentral")] == [
        ("OpenAI.GlobalStandard.gpt-4.1", 30, 1000)
    ]


def test_toml_file_loads_through_load_scenario(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(FULL, encoding="utf-8")
    assert load_scenario(str(path)).name == "cmk"


MINIMAL = """
[[accounts]]
name = "a"
subscription = "s1"
resource_group = "rg"
location = "eastus2"
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[accounts]\nname = 'x'", "not valid TOML"),
        (MINIMAL + "colour = 'blue'\n", "unknown key 'accounts[0].colour'"),
        (
            MINIMAL + "[[accounts.deployments]]\nname = 'd'\nmodle = 'gpt-4.1'\nversion = '1'\nmodel = 'm'\n",
            "unknown key 'accounts[0].deployments[0].modle'",
        ),
        (
            MINIMAL + "[[accounts.deployments]]\nname = 'd'\nversion = '1'\n",
            "key 'accounts[0].deployments[0].model' is required",
        ),
        (
            MINIMAL + "[[accounts.deployments]]\nname = 'd'\nmodel = 'm'\nversion = '1'\ncapacity = 'lots'\n",
            "capacity' must be a whole number",
        ),
        (MINIMAL + "disable_local_auth = 'yes'\n", "key 'accounts[0].disable_local_auth' must be true or false"),
        (MINIMAL + "public_network_access = 'Open'\n", "must be one of Enabled, Disabled"),
        (MINIMAL + "forbidden = ['everything']\n", "unknown part 'everything'"),
        (MINIMAL + "encryption_key_source = 'Microsoft.KeyVault'\n", "needs 'key_vault_uri'"),
        (
            MINIMAL + "[[accounts.deployments]]\nname='d'\nmodel='m'\nversion='1'\n"
            "[[accounts.deployments]]\nname='D'\nmodel='m'\nversion='1'\n",
            "repeats deployment 'D'",
        ),
        (MINIMAL + MINIMAL, "repeats account 'a'"),
        (
            "[[subscriptions]]\nid = 's1'\n" + MINIMAL.replace("s1", "s9"),
            "names 's9', which is not in [[subscriptions]]",
        ),
        (
            "[[subscriptions]]\nid='s'\n[[location_models]]\nname = 'm'\nversion = '1'\n",
            "key 'location_models[0].location' is required",
        ),
        (
            "[[subscriptions]]\nid='s'\n[[location_models]]\nlocation='x'\nname='m'\nversion='1'\n"
            "inference = 2027-01-01\ninference_in_days = 3\n",
            "'inference_in_days' are both set",
        ),
        (
            "[limits]\ndeployments_page_size = 0\n[[subscriptions]]\nid='s'\n",
            "deployments_page_size' must be at least 1",
        ),
        ("[scenario]\nname = 'empty'\n", "needs at least one [[subscriptions]] or [[accounts]]"),
        ("accounts = 3\n", "key 'accounts' must be an array of tables"),
    ],
)
def test_toml_errors_are_one_line_and_name_the_key(text: str, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        scenario_from_toml(text, source="scenario file bad.toml")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert message.startswith("scenario file bad.toml")
