"""The emulator's ARM over raw HTTP: auth and api-version checks, ARM error shapes and statuses,
request-id and throttling headers, nextLink / $skipToken paging, faults, forbidden parts and the
Resource Graph query subset."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aoai.emulator import server
from aoai.emulator.arm_kql import KqlError, parse_kql
from tests.conftest import FAKE_TOKEN, inject_fault

SUB = "00000000-0000-0000-0000-000000000001"
RG = "rg-aoai-demo"
CS = "providers/Microsoft.CognitiveServices"
READY = f"/subscriptions/{SUB}/resourceGroups/{RG}/{CS}/accounts/aoai-ready"
LEGACY = f"/subscriptions/{SUB}/resourceGroups/{RG}/{CS}/accounts/aoai-legacy"
API = {"api-version": "2025-06-01"}
GRAPH = "/providers/Microsoft.ResourceGraph/resources"


def http(emu: server.RunningEmulator, token: str | None = FAKE_TOKEN) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    return httpx.Client(base_url=emu.url, verify=context, headers=headers, timeout=10)


def get(emu: server.RunningEmulator, path: str, params: dict[str, str] | None = API, **kw: Any) -> httpx.Response:
    with http(emu, **kw) as client:
        return client.get(path, params=params)


def query(emu: server.RunningEmulator, body: dict[str, Any], version: str = "2022-10-01") -> httpx.Response:
    with http(emu) as client:
        return client.post(GRAPH, params={"api-version": version}, json=body)


def error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return response.status_code, body["error"]["code"]


# --- auth, api-version, headers --------------------------------------------------------------------


def test_authentication_is_required(emulator: server.RunningEmulator) -> None:
    missing = get(emulator, READY, token=None)
    assert error(missing) == (401, "AuthenticationFailed")
    assert "invalid_token" in missing.headers["www-authenticate"]
    assert error(get(emulator, READY, token="someone-else")) == (401, "InvalidAuthenticationToken")
    with http(emulator, token=None) as client:
        basic = client.get(READY, params=API, headers={"authorization": "Basic dXNlcjpwdw=="})
    assert error(basic) == (401, "AuthenticationFailed")
    assert FAKE_TOKEN not in missing.text


def test_api_version_is_required_and_checked(emulator: server.RunningEmulator) -> None:
    assert error(get(emulator, READY, params={})) == (400, "MissingApiVersionParameter")
    assert error(get(emulator, READY, params={"api-version": "latest"})) == (400, "InvalidApiVersionParameter")
    assert error(get(emulator, READY, params={"api-version": "2015-01-01"})) == (400, "NoRegisteredProviderFound")
    insights = READY + "/providers/Microsoft.Insights/diagnosticSettings"
    assert error(get(emulator, insights, params={"api-version": "2025-06-01"})) == (400, "NoRegisteredProviderFound")
    assert get(emulator, insights, params={"api-version": "2021-05-01-preview"}).status_code == 200
    assert get(emulator, READY, params={"api-version": "2023-10-01-preview"}).status_code == 200
    assert error(query(emulator, {"query": "Resources"}, version="2030-01-01")) == (400, "NoRegisteredProviderFound")


def test_every_response_carries_arm_headers(emulator: server.RunningEmulator) -> None:
    with http(emulator) as client:
        ok = client.get(READY, params=API, headers={"x-ms-correlation-request-id": "corr-1234"})
        missing = client.get(READY.replace("aoai-ready", "absent"), params=API)
        graph = client.post(GRAPH, params={"api-version": "2021-03-01"}, json={"query": "Resources"})
        tenant = client.get("/subscriptions", params={"api-version": "2022-12-01"})
    for response in (ok, missing, graph, tenant):
        assert response.headers["x-ms-request-id"]
        assert response.headers["x-ms-correlation-request-id"]
    assert ok.headers["x-ms-correlation-request-id"] == "corr-1234"
    assert ok.headers["x-ms-request-id"] != missing.headers["x-ms-request-id"]
    assert int(ok.headers["x-ms-ratelimit-remaining-subscription-reads"]) <= 249
    assert "x-ms-ratelimit-remaining-subscription-reads" in missing.headers
    assert "x-ms-ratelimit-remaining-tenant-reads" in tenant.headers
    assert int(graph.headers["x-ms-user-quota-remaining"]) < 15
    assert graph.headers["x-ms-user-quota-resets-after"].count(":") == 2


def test_not_found_errors_use_arm_codes(emulator: server.RunningEmulator) -> None:
    other = "/subscriptions/99999999-0000-0000-0000-000000000000"
    assert error(get(emulator, other + f"/{CS}/accounts")) == (404, "SubscriptionNotFound")
    assert error(get(emulator, f"/subscriptions/{SUB}/resourceGroups/rg-x/{CS}/accounts")) == (
        404,
        "ResourceGroupNotFound",
    )
    assert error(get(emulator, READY.replace("aoai-ready", "absent"))) == (404, "ResourceNotFound")
    assert error(get(emulator, READY + "/deployments/gpt-4o")) == (404, "DeploymentNotFound")
    assert error(get(emulator, f"/subscriptions/{SUB}/{CS}/somethingElse")) == (404, "InvalidResourceType")
    with http(emulator) as client:
        put = client.put(READY + "/deployments/new", params=API, json={})
    assert error(put) == (405, "MethodNotAllowed")
    # Names are case-insensitive, as in ARM.
    upper = get(emulator, READY.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    assert upper.status_code == 200 and upper.json()["name"] == "aoai-ready"


def test_subscriptions_list_and_get(emulator: server.RunningEmulator) -> None:
    listed = get(emulator, "/subscriptions", params={"api-version": "2022-12-01"}).json()
    assert [s["subscriptionId"] for s in listed["value"]] == [SUB, "00000000-0000-0000-0000-000000000002"]
    first = listed["value"][0]
    assert first["displayName"] == "aoai-demo" and first["state"] == "Enabled"
    assert first["tenantId"] == "72f988bf-0000-0000-0000-000000000000" and first["id"] == f"/subscriptions/{SUB}"
    one = get(emulator, f"/subscriptions/{SUB}", params={"api-version": "2022-12-01"}).json()
    assert one == first


def test_model_capacities_require_the_model(emulator: server.RunningEmulator) -> None:
    path = f"/subscriptions/{SUB}/{CS}/modelCapacities"
    assert error(get(emulator, path, params={**API, "modelFormat": "OpenAI", "modelName": "gpt-4.1"})) == (
        400,
        "BadRequest",
    )
    full = {**API, "modelFormat": "OpenAI", "modelName": "gpt-4.1", "modelVersion": "2025-04-14"}
    located = get(emulator, f"/subscriptions/{SUB}/{CS}/locations/japaneast/modelCapacities", params=full).json()
    assert [(c["location"], c["properties"]["availableCapacity"]) for c in located["value"]] == [("japaneast", 0)]


# --- faults ---------------------------------------------------------------------------------------


def test_fault_429_on_an_arm_route(emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.deployments.list", status=429, retry_after=7)
    throttled = get(emulator, READY + "/deployments")
    assert error(throttled) == (429, "SubscriptionRequestsThrottled")
    assert throttled.headers["retry-after"] == "7"
    assert throttled.headers["x-ms-correlation-request-id"]
    assert "x-ms-ratelimit-remaining-subscription-reads" in throttled.headers
    assert get(emulator, READY + "/deployments").status_code == 200  # count 1: consumed


def test_fault_patterns_and_kinds(emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="arm.accounts.*", status=500, count=2)
    assert error(get(emulator, READY)) == (500, "InternalServerError")
    assert get(emulator, f"/subscriptions/{SUB}/{CS}/accounts").status_code == 500
    assert get(emulator, READY).status_code == 200
    inject_fault(emulator, route="arm.diagnostic_settings.list", status=403, code="AuthorizationFailed")
    denied = get(
        emulator, READY + "/providers/Microsoft.Insights/diagnosticSettings", {"api-version": "2021-05-01-preview"}
    )
    assert error(denied) == (403, "AuthorizationFailed")
    inject_fault(emulator, route="graph.resources", expired_token=True)
    assert error(query(emulator, {"query": "Resources"})) == (401, "ExpiredAuthenticationToken")
    inject_fault(emulator, route="arm.*", latency_ms=300)
    started = time.monotonic()
    assert get(emulator, READY + "/skus").status_code == 200
    assert time.monotonic() - started >= 0.3


# --- paging, forbidden parts and throttling on a custom scenario ------------------------------------

CUSTOM = """
[scenario]
name = "custom"

[limits]
deployments_page_size = 3
accounts_page_size = 2
graph_queries = 1000  # these tests send bursts of queries; the default is Resource Graph's 15 per 5 s

[[subscriptions]]
id = "00000000-0000-0000-0000-0000000000c1"
display_name = "custom"
management_groups = ["mg-prod"]
forbidden = ["usages"]

[[subscriptions]]
id = "00000000-0000-0000-0000-0000000000c2"
display_name = "hidden"
forbidden = ["resource_graph"]

[[accounts]]
name = "a1"
resource_group = "rg"
location = "eastus2"
tags = { env = "prod", team = "search" }
forbidden = ["diagnostic_settings", "private_endpoint_connections"]
[[accounts.deployments]]
name = "d1"
model = "gpt-4.1"
version = "2025-04-14"
[[accounts.deployments]]
name = "d2"
model = "gpt-4.1"
version = "2025-04-14"
[[accounts.deployments]]
name = "d3"
model = "gpt-4.1"
version = "2025-04-14"
[[accounts.deployments]]
name = "d4"
model = "gpt-4.1"
version = "2025-04-14"

[[accounts]]
name = "a2"
resource_group = "rg"
location = "westeurope"
kind = "AIServices"
tags = { env = "dev" }

[[accounts]]
name = "a3"
resource_group = "rg-other"
location = "swedencentral"
kind = "ContentSafety"

[[accounts]]
name = "secret"
resource_group = "rg"
location = "eastus2"
forbidden = ["account"]

[[accounts]]
name = "h1"
subscription = "00000000-0000-0000-0000-0000000000c2"
resource_group = "rg"
location = "eastus2"
"""
C1 = "/subscriptions/00000000-0000-0000-0000-0000000000c1"


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    folder = tmp_path_factory.mktemp("custom")
    path = Path(folder) / "custom.toml"
    path.write_text(CUSTOM, encoding="utf-8")
    running = server.start(scenario=str(path), access_token=FAKE_TOKEN, workdir=folder)
    yield running
    running.stop()


def test_deployments_page_with_next_link(custom: server.RunningEmulator) -> None:
    first = get(custom, f"{C1}/resourceGroups/rg/{CS}/accounts/a1/deployments").json()
    assert [d["name"] for d in first["value"]] == ["d1", "d2", "d3"]
    link = httpx.URL(first["nextLink"])
    assert str(link).startswith(custom.url)
    assert link.params["api-version"] == "2025-06-01" and link.params["$skipToken"]
    second = get(custom, link.path, params=dict(link.params)).json()
    assert [d["name"] for d in second["value"]] == ["d4"]
    assert "nextLink" not in second
    bad = get(custom, link.path, params={**API, "$skipToken": "garbage!"})
    assert error(bad) == (400, "InvalidSkipToken")


def test_accounts_page_and_hide_forbidden_accounts(custom: server.RunningEmulator) -> None:
    names: list[str] = []
    page = get(custom, f"{C1}/{CS}/accounts").json()
    names.extend(a["name"] for a in page["value"])
    while "nextLink" in page:
        link = httpx.URL(page["nextLink"])
        page = get(custom, link.path, params=dict(link.params)).json()
        names.extend(a["name"] for a in page["value"])
    assert names == ["a1", "a2", "a3"]
    assert error(get(custom, f"{C1}/resourceGroups/rg/{CS}/accounts/secret")) == (403, "AuthorizationFailed")


def test_forbidden_parts_answer_authorization_failed(custom: server.RunningEmulator) -> None:
    account = f"{C1}/resourceGroups/rg/{CS}/accounts/a1"
    diag = get(
        custom, account + "/providers/Microsoft.Insights/diagnosticSettings", {"api-version": "2021-05-01-preview"}
    )
    assert error(diag) == (403, "AuthorizationFailed")
    assert "Microsoft.Insights/diagnosticSettings/read" in diag.json()["error"]["message"]
    assert error(get(custom, account + "/privateEndpointConnections")) == (403, "AuthorizationFailed")
    assert get(custom, account).status_code == 200
    assert get(custom, account + "/deployments").status_code == 200
    assert error(get(custom, f"{C1}/{CS}/locations/eastus2/usages")) == (403, "AuthorizationFailed")
    assert get(custom, f"{C1}/{CS}/locations/eastus2/models").status_code == 200


def test_throttling_bucket_counts_down_then_429(tmp_path: Path) -> None:
    path = tmp_path / "tight.toml"
    path.write_text(
        "[limits]\nsubscription_reads = 4\nsubscription_reads_per_second = 0.01\n"
        "[[accounts]]\nname='a'\nsubscription='00000000-0000-0000-0000-0000000000d1'\nresource_group='rg'\n"
        "location='eastus2'\n",
        encoding="utf-8",
    )
    running = server.start(scenario=str(path), access_token=FAKE_TOKEN, workdir=tmp_path / "emu")
    try:
        account = "/subscriptions/00000000-0000-0000-0000-0000000000d1/resourceGroups/rg/" + CS + "/accounts/a"
        remaining = []
        for _ in range(4):
            response = get(running, account)
            assert response.status_code == 200
            remaining.append(int(response.headers["x-ms-ratelimit-remaining-subscription-reads"]))
        assert remaining == [3, 2, 1, 0]
        throttled = get(running, account)
        assert error(throttled) == (429, "SubscriptionRequestsThrottled")
        assert int(throttled.headers["retry-after"]) >= 1
        assert throttled.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
        # Another subscription has its own bucket (and answers 404 for an unknown one).
        other = get(running, "/subscriptions/00000000-0000-0000-0000-0000000000d2/" + CS + "/accounts")
        assert error(other) == (404, "SubscriptionNotFound")
        assert other.headers["x-ms-ratelimit-remaining-subscription-reads"] == "3"
    finally:
        running.stop()


def test_graph_quota_throttles(tmp_path: Path) -> None:
    path = tmp_path / "graph.toml"
    path.write_text(
        "[limits]\ngraph_queries = 2\ngraph_window_seconds = 30\n[[subscriptions]]\nid = 's'\n", encoding="utf-8"
    )
    running = server.start(scenario=str(path), access_token=FAKE_TOKEN, workdir=tmp_path / "emu")
    try:
        remaining = [query(running, {"query": "Resources"}).headers["x-ms-user-quota-remaining"] for _ in range(2)]
        assert remaining == ["1", "0"]
        throttled = query(running, {"query": "Resources"})
        assert error(throttled) == (429, "RateLimiting")
        assert int(throttled.headers["retry-after"]) >= 1
    finally:
        running.stop()


# --- Resource Graph ---------------------------------------------------------------------------------


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


def test_graph_filters_and_scopes(custom: server.RunningEmulator) -> None:
    c1 = "00000000-0000-0000-0000-0000000000c1"
    fleet = "resources | where type =~ 'Microsoft.CognitiveServices/accounts' | where kind in~ ('openai', 'aiservices')"
    assert names(query(custom, {"subscriptions": [c1], "query": fleet})) == ["a1", "a2"]
    # Without scopes: every subscription the caller may read ('hidden' is not one, 'secret' is denied).
    assert names(query(custom, {"query": "Resources"})) == ["a1", "a2", "a3"]
    assert names(query(custom, {"subscriptions": ["00000000-0000-0000-0000-0000000000c2"], "query": "Resources"})) == []
    assert names(query(custom, {"managementGroups": ["mg-prod"], "query": "Resources"})) == ["a1", "a2", "a3"]
    assert names(query(custom, {"managementGroups": ["mg-other"], "query": "Resources"})) == []
    tagged = fleet + " | where tags.env =~ 'PROD'"
    assert names(query(custom, {"subscriptions": [c1], "query": tagged})) == ["a1"]
    assert names(
        query(custom, {"query": "Resources | where tags['team'] == 'search' or location == 'swedencentral'"})
    ) == [
        "a1",
        "a3",
    ]
    assert names(query(custom, {"query": "Resources | where not(isnotempty(tags.env))"})) == ["a3"]
    assert names(query(custom, {"query": "Resources | order by name desc | take 2"})) == ["a3", "a2"]
    assert names(query(custom, {"query": "where name startswith 'a' and name !endswith '2' | sort by name asc"})) == [
        "a1",
        "a3",
    ]
    containers = query(custom, {"query": "ResourceContainers | where type =~ 'microsoft.resources/subscriptions'"})
    assert names(containers) == ["custom"]


def test_graph_paging_top_skip_and_table_format(custom: server.RunningEmulator) -> None:
    first = query(custom, {"query": "Resources", "options": {"$top": 2}}).json()
    assert (first["totalRecords"], first["count"], first["resultTruncated"]) == (3, 2, "false")
    rest = query(custom, {"query": "Resources", "options": {"$skipToken": first["$skipToken"]}}).json()
    assert [r["name"] for r in rest["data"]] == ["a3"] and "$skipToken" not in rest
    skipped = query(custom, {"query": "Resources", "options": {"$skip": 1, "$top": 1}}).json()
    assert [r["name"] for r in skipped["data"]] == ["a2"]
    table = query(custom, {"query": "Resources", "options": {"resultFormat": "table"}}).json()["data"]
    columns = [c["name"] for c in table["columns"]]
    assert {"id", "name", "type", "kind", "properties", "tags"} <= set(columns)
    assert [row[columns.index("name")] for row in table["rows"]] == ["a1", "a2", "a3"]
    old = query(custom, {"query": "Resources"}, version="2019-04-01").json()["data"]
    assert "columns" in old  # api-versions before 2021-03-01 default to the table format


@pytest.mark.parametrize(
    "bad",
    [
        "Resources | summarize count() by location",
        "Resources | where name = 'x'",
        "Resources | where (name == 'x'",
        "Resources | where strcat(name) == 'x'",
        "Resources | join (ResourceContainers) on subscriptionId",
    ],
)
def test_graph_rejects_what_it_cannot_interpret(custom: server.RunningEmulator, bad: str) -> None:
    response = query(custom, {"query": bad})
    assert error(response) == (400, "BadRequest")
    assert response.json()["error"]["details"][0]["code"] == "InvalidQuery"


def test_graph_validates_the_body(custom: server.RunningEmulator) -> None:
    assert error(query(custom, {"subscriptions": []})) == (400, "BadRequest")
    assert error(query(custom, {"query": "Resources", "options": {"$top": 0}})) == (400, "BadRequest")
    assert error(query(custom, {"query": "Resources", "options": {"$skipToken": "nonsense"}})) == (
        400,
        "InvalidSkipToken",
    )


def test_kql_parser_units() -> None:
    row = {"name": "A", "tags": {"env": "prod"}, "properties": {"n": 5, "flag": True, "list": [1, 2]}}
    assert parse_kql("Resources | where properties.n > 4 and properties.flag == true").run([row]) == [row]
    assert parse_kql("Resources | where array_length(properties.list) == 2").run([row]) == [row]
    assert parse_kql("Resources | where tags.env has 'PROD' | project name").run([row]) == [row]
    assert parse_kql("Resources | where name !in ('a', 'b')").run([row]) == [row]
    assert parse_kql("Resources | where name !in~ ('a', 'b')").run([row]) == []
    assert parse_kql("Resources | where name contains_cs 'a'").run([row]) == []
    with pytest.raises(KqlError):
        parse_kql("Resources | where name == 'x' extra")
