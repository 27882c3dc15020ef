"""The Azure management SDKs, as independent clients, read every ARM route of the emulator.

azure-mgmt-cognitiveservices, azure-mgmt-monitor 6.x (diagnostic settings, 2021-05-01-preview)
and azure-mgmt-resourcegraph deserialize every answer with their own models; a shape the SDK
cannot read fails here. Credentials are static tokens only: nothing can reach the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aoai.auth import StaticTokenCredential
from aoai.emulator import server
from tests.conftest import FAKE_TOKEN, control, inject_fault

SUB = "00000000-0000-0000-0000-000000000001"
RG = "rg-aoai-demo"


def _kwargs(emu: server.RunningEmulator) -> dict[str, Any]:
    return {
        "base_url": emu.url,
        "connection_verify": str(emu.ca_path),
        # Scopes are irrelevant for a static token; given so no cloud lookup is needed.
        "credential_scopes": ["https://management.azure.com/.default"],
    }


def cognitive(emu: server.RunningEmulator, sub: str = SUB, token: str = FAKE_TOKEN, **extra: Any) -> Any:
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

    return CognitiveServicesManagementClient(StaticTokenCredential(token), sub, **_kwargs(emu), **extra)


def monitor(emu: server.RunningEmulator, sub: str = SUB) -> Any:
    from azure.mgmt.monitor import MonitorManagementClient

    return MonitorManagementClient(StaticTokenCredential(FAKE_TOKEN), sub, **_kwargs(emu))


def graph(emu: server.RunningEmulator) -> Any:
    from azure.mgmt.resourcegraph import ResourceGraphClient

    return ResourceGraphClient(StaticTokenCredential(FAKE_TOKEN), **_kwargs(emu))


def account_id(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts/{name}"


# --- Microsoft.CognitiveServices -----------------------------------------------------------------


def test_rai_policies_list_has_the_builtins_and_the_custom_policy(emulator: server.RunningEmulator) -> None:
    client = cognitive(emulator)
    ready = {p.name: p for p in client.rai_policies.list(RG, "aoai-ready")}
    assert set(ready) == {"Microsoft.Default", "Microsoft.DefaultV2"}
    assert ready["Microsoft.DefaultV2"].properties.type == "SystemManaged"
    legacy = {p.name: p for p in client.rai_policies.list(RG, "aoai-legacy")}
    relaxed = legacy["legacy-relaxed"].properties
    assert (relaxed.type, relaxed.mode, relaxed.base_policy_name) == ("UserManaged", "Blocking", "Microsoft.DefaultV2")
    jailbreak = [f for f in relaxed.content_filters if f.name == "Jailbreak"]
    assert [(f.enabled, f.blocking, f.source) for f in jailbreak] == [(False, False, "Prompt")]


def test_accounts_list_get_and_by_resource_group(emulator: server.RunningEmulator) -> None:
    client = cognitive(emulator)
    listed = {a.name: a for a in client.accounts.list()}
    assert set(listed) == {"aoai-ready", "aoai-legacy"}
    assert [a.name for a in client.accounts.list_by_resource_group(RG)] == ["aoai-ready", "aoai-legacy"]
    ready = client.accounts.get(RG, "aoai-ready")
    assert ready.id == account_id("aoai-ready")
    assert (ready.kind, ready.location, ready.sku.name) == ("AIServices", "swedencentral", "S0")
    p = ready.properties
    assert p.provisioning_state == "Succeeded"
    assert p.custom_sub_domain_name == "aoai-ready"
    assert p.endpoint == "https://aoai-ready.openai.azure.com/"
    assert p.public_network_access == "Disabled"
    assert p.network_acls.default_action == "Deny"
    assert p.restrict_outbound_network_access is True
    assert p.disable_local_auth is True
    assert p.encryption.key_source == "Microsoft.CognitiveServices"
    assert ready.identity.type == "SystemAssigned" and ready.identity.principal_id
    [pec] = p.private_endpoint_connections
    assert pec.properties.private_link_service_connection_state.status == "Approved"
    legacy = client.accounts.get(RG, "aoai-legacy")
    assert legacy.properties.custom_sub_domain_name is None
    assert legacy.identity is None
    assert legacy.properties.disable_local_auth is False
    assert legacy.properties.network_acls.default_action == "Allow"


def test_deployments_list_and_get(emulator: server.RunningEmulator) -> None:
    client = cognitive(emulator)
    deployments = {d.name: d for d in client.deployments.list(RG, "aoai-ready")}
    assert set(deployments) == {"chat", "reasoner"}
    chat = client.deployments.get(RG, "aoai-ready", "chat")
    assert (chat.properties.model.format, chat.properties.model.name, chat.properties.model.version) == (
        "OpenAI",
        "gpt-4.1",
        "2025-04-14",
    )
    assert (chat.sku.name, chat.sku.capacity) == ("GlobalStandard", 50)
    assert chat.properties.rai_policy_name == "Microsoft.DefaultV2"
    assert chat.properties.version_upgrade_option == "OnceNewDefaultVersionAvailable"
    assert chat.properties.provisioning_state == "Succeeded"
    prod, mini = sorted(client.deployments.list(RG, "aoai-legacy"), key=lambda d: d.name != "prod-chat")
    assert prod.name == "prod-chat" and prod.properties.rai_policy_name == "legacy-relaxed"
    assert (mini.name, mini.sku.name) == ("mini", "Standard")
    assert prod.properties.version_upgrade_option == "NoAutoUpgrade"


def test_account_models_usages_skus_and_private_endpoints(emulator: server.RunningEmulator) -> None:
    client = cognitive(emulator)
    models = {(m.name, m.version): m for m in client.accounts.list_models(RG, "aoai-legacy")}
    assert models["gpt-4o", "2024-05-13"].lifecycle_status == "Deprecating"
    assert models["gpt-4o", "2024-05-13"].replacement_config.target_model_name == "gpt-4.1"
    usages = client.accounts.list_usages(RG, "aoai-legacy").value
    assert sorted((u.name.value, u.current_value, u.limit) for u in usages) == [
        ("OpenAI.Standard.gpt-4o", 80, 100),
        ("OpenAI.Standard.gpt-4o-mini", 20, 200),
    ]
    skus = client.accounts.list_skus(RG, "aoai-ready").value
    assert [(s.resource_type, s.sku.name) for s in skus] == [("Microsoft.CognitiveServices/accounts", "S0")]
    [pending] = client.private_endpoint_connections.list(RG, "aoai-legacy").value
    assert pending.properties.private_link_service_connection_state.status == "Pending"
    again = client.private_endpoint_connections.get(RG, "aoai-legacy", pending.name)
    assert again.id == pending.id


def test_location_models_with_lifecycle(emulator: server.RunningEmulator) -> None:
    client = cognitive(emulator)
    models = {(m.model.name, m.model.version): m for m in client.models.list("westeurope")}
    old = models["gpt-4o", "2024-05-13"]
    assert old.kind == "OpenAI" and old.sku_name == "S0"
    assert old.model.lifecycle_status == "Deprecating"
    assert old.model.deprecation.inference  # a date 40 days after the emulator started
    assert (old.model.replacement_config.target_model_name, old.model.replacement_config.target_model_version) == (
        "gpt-4.1",
        "2025-04-14",
    )
    [sku] = old.model.skus
    assert sku.usage_name == "OpenAI.Standard.gpt-4o" and sku.capacity.maximum == 100 and sku.deprecation_date
    assert models["gpt-35-turbo", "0613"].model.lifecycle_status == "Deprecated"
    sweden = {m.model.name for m in client.models.list("SwedenCentral")}  # location names are normalised
    assert sweden == {"gpt-4.1", "gpt-5-mini"}
    assert list(client.models.list("brazilsouth")) == []


def test_location_usages_and_model_capacities(emulator: server.RunningEmulator) -> None:
    client = cognitive(emulator)
    usages = {u.name.value: (u.current_value, u.limit) for u in client.usages.list("swedencentral")}
    assert usages == {"OpenAI.GlobalStandard.gpt-4.1": (50, 1000), "OpenAI.GlobalStandard.gpt-5-mini": (100, 1000)}
    everywhere = {
        c.location: (c.properties.sku_name, c.properties.available_capacity)
        for c in client.model_capacities.list("OpenAI", "gpt-4.1", "2025-04-14")
    }
    assert everywhere == {
        "eastus2": ("GlobalStandard", 5000),
        "swedencentral": ("GlobalStandard", 2000),
        "westus3": ("GlobalStandard", 1500),
        "westeurope": ("GlobalStandard", 3000),
        "japaneast": ("GlobalStandard", 0),
    }
    [one] = client.location_based_model_capacities.list("westus3", "OpenAI", "gpt-4.1", "2025-04-14")
    assert one.properties.model.name == "gpt-4.1" and one.properties.available_capacity == 1500
    assert list(client.model_capacities.list("OpenAI", "gpt-4.1", "1999-01-01")) == []


# --- Microsoft.Insights (azure-mgmt-monitor 6.x) -------------------------------------------------


def test_diagnostic_settings_and_categories(emulator: server.RunningEmulator) -> None:
    client = monitor(emulator)
    [setting] = client.diagnostic_settings.list(account_id("aoai-ready"))
    assert setting.name == "to-law" and setting.workspace_id.endswith("/workspaces/law-aoai-demo")
    assert [(log.category_group, log.enabled) for log in setting.logs] == [("allLogs", True)]
    assert [(m.category, m.enabled) for m in setting.metrics] == [("AllMetrics", True)]
    assert client.diagnostic_settings.get(account_id("aoai-ready"), "to-law").name == "to-law"
    [policy_setting] = client.diagnostic_settings.list(account_id("aoai-legacy"))  # a landing zone's audit-only
    assert [(log.category_group, log.enabled) for log in policy_setting.logs] == [("audit", True)]
    categories = {c.name: c for c in client.diagnostic_settings_category.list(account_id("aoai-ready"))}
    assert categories["Audit"].category_type == "Logs" and "allLogs" in categories["Audit"].category_groups
    assert categories["AllMetrics"].category_type == "Metrics"
    # A resource URI without the leading slash (as the SDK's samples write it) works too.
    assert len(list(client.diagnostic_settings.list(account_id("aoai-ready").lstrip("/")))) == 1


# --- Azure Resource Graph ------------------------------------------------------------------------

FLEET_QUERY = (
    "Resources | where type =~ 'microsoft.cognitiveservices/accounts' | where kind in~ ('OpenAI', 'AIServices') "
    "| project id, name, type, kind, location, resourceGroup, subscriptionId, tenantId, sku, identity, properties, tags"
)


def test_resource_graph_fleet_query(emulator: server.RunningEmulator) -> None:
    from azure.mgmt.resourcegraph.models import QueryRequest

    result = graph(emulator).resources(QueryRequest(subscriptions=[SUB], query=FLEET_QUERY))
    assert (result.total_records, result.count, result.result_truncated) == (2, 2, "false")
    assert result.skip_token is None
    rows = {row["name"]: row for row in result.data}
    assert rows["aoai-ready"]["properties"]["publicNetworkAccess"] == "Disabled"
    assert rows["aoai-ready"]["identity"]["type"] == "SystemAssigned"
    assert rows["aoai-legacy"]["identity"] is None
    assert rows["aoai-legacy"]["type"] == "microsoft.cognitiveservices/accounts"
    assert rows["aoai-legacy"]["resourceGroup"] == RG and rows["aoai-legacy"]["subscriptionId"] == SUB
    # The same properties as ARM's GET, so account-level checks need no GET per account.
    account = cognitive(emulator).accounts.get(RG, "aoai-ready").as_dict()
    assert (
        rows["aoai-ready"]["properties"]["privateEndpointConnections"][0]["id"]
        == (account["properties"]["private_endpoint_connections"][0]["id"])
    )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    running = server.start(
        scenario="fleet:60", access_token=FAKE_TOKEN, workdir=tmp_path_factory.mktemp("fleet-emulator")
    )
    yield running
    running.stop()


def test_resource_graph_paging_with_skip_token(fleet: server.RunningEmulator) -> None:
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    client = graph(fleet)
    subscriptions = [s.id for s in fleet.state.scenario.subscriptions]
    names: list[str] = []
    token = None
    pages = 0
    while True:
        options = QueryRequestOptions(top=25, skip_token=token)
        result = client.resources(QueryRequest(subscriptions=subscriptions, query=FLEET_QUERY, options=options))
        pages += 1
        assert result.total_records == 60
        assert result.count == len(result.data)
        names.extend(row["name"] for row in result.data)
        token = result.skip_token
        if token is None:
            break
    assert pages == 3
    assert sorted(names) == sorted(a.name for a in fleet.state.scenario.accounts)
    one = client.resources(QueryRequest(subscriptions=subscriptions[:1], query=FLEET_QUERY))
    assert one.total_records == 15
    assert {row["subscriptionId"] for row in one.data} == {subscriptions[0]}


# --- paging, errors and retries through the SDK ---------------------------------------------------

PAGED = """
[[subscriptions]]
id = "00000000-0000-0000-0000-0000000000aa"
display_name = "paging"
forbidden = ["location_models"]

[[accounts]]
name = "many"
resource_group = "rg-many"
location = "eastus2"
kind = "OpenAI"
forbidden = ["diagnostic_settings"]
"""


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    folder = tmp_path_factory.mktemp("paged")
    text = PAGED + "".join(
        f"\n[[accounts.deployments]]\nname = 'dep-{i:02d}'\nmodel = 'gpt-4.1'\nversion = '2025-04-14'\n"
        "sku = 'GlobalStandard'\ncapacity = 1\n"
        for i in range(25)
    )
    path = Path(folder) / "paged.toml"
    path.write_text(text, encoding="utf-8")
    running = server.start(scenario=str(path), access_token=FAKE_TOKEN, workdir=folder)
    yield running
    running.stop()


def test_sdk_follows_deployment_next_links(paged: server.RunningEmulator) -> None:
    control(paged, "DELETE", "/_emulator/requests")
    client = cognitive(paged, sub="00000000-0000-0000-0000-0000000000aa")
    names = [d.name for d in client.deployments.list("rg-many", "many")]
    assert names == [f"dep-{i:02d}" for i in range(25)]
    log = control(paged, "GET", "/_emulator/requests")["requests"]
    calls = [r for r in log if r["path"].endswith("/deployments")]
    assert len(calls) == 2
    assert "$skipToken" not in calls[0]["query"] and "skipToken" in calls[1]["query"]


def test_sdk_error_mapping(paged: server.RunningEmulator) -> None:
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    sub = "00000000-0000-0000-0000-0000000000aa"
    client = cognitive(paged, sub=sub)
    with pytest.raises(ResourceNotFoundError) as missing:
        client.accounts.get("rg-many", "absent")
    assert missing.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as no_group:
        client.accounts.get("rg-nowhere", "many")
    assert no_group.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as no_deployment:
        client.deployments.get("rg-many", "many", "nope")
    assert no_deployment.value.error.code == "DeploymentNotFound"
    with pytest.raises(ResourceNotFoundError) as no_sub:
        cognitive(paged, sub="99999999-0000-0000-0000-000000000000").accounts.get("rg-many", "many")
    assert no_sub.value.error.code == "SubscriptionNotFound"
    with pytest.raises(HttpResponseError) as forbidden:
        list(client.models.list("eastus2"))
    assert forbidden.value.status_code == 403 and forbidden.value.error.code == "AuthorizationFailed"
    resource = f"/subscriptions/{sub}/resourceGroups/rg-many/providers/Microsoft.CognitiveServices/accounts/many"
    with pytest.raises(HttpResponseError) as diag:
        list(monitor(paged, sub).diagnostic_settings.list(resource))
    assert diag.value.status_code == 403 and diag.value.error.code == "AuthorizationFailed"
    assert len(list(monitor(paged, sub).diagnostic_settings_category.list(resource))) == 5  # only settings are denied
    with pytest.raises(ClientAuthenticationError) as denied:
        cognitive(paged, sub=sub, token="not-the-token").accounts.get("rg-many", "many")
    assert denied.value.status_code == 401 and denied.value.error.code == "InvalidAuthenticationToken"


def test_sdk_retries_through_injected_throttling(emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.deployments.list", status=429, retry_after_ms=20, count=2)
    control(emulator, "DELETE", "/_emulator/requests")
    names = [d.name for d in cognitive(emulator).deployments.list(RG, "aoai-ready")]
    assert names == ["chat", "reasoner"]
    calls = [
        r for r in control(emulator, "GET", "/_emulator/requests")["requests"] if r["path"].endswith("/deployments")
    ]
    assert len(calls) == 3  # two throttled answers, then the real one
