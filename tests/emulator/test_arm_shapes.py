"""The emulator's ARM JSON against the official examples of the Azure REST API specs
(../shared/reference/arm-examples; skipped when absent).

For every route with an example, recursively: (1) the emulator invents no key the example lacks
at the same path, except the documented ones in EXTRA (each with the reason; docs/emulator.md
repeats them), (2) it carries the keys the example has that the checks read (REQUIRED: in every
item; SOMETIMES: in at least one item), and (3) where both have a value, the JSON types agree.
List items are compared with the union of the example's items.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import pytest

from aoai.emulator import server
from tests.conftest import FAKE_TOKEN, REFERENCE

EXAMPLES = REFERENCE / "arm-examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="reference arm-examples folder is absent")

SUB = "00000000-0000-0000-0000-000000000001"
ACCOUNTS = f"/subscriptions/{SUB}/resourceGroups/rg-aoai-demo/providers/Microsoft.CognitiveServices/accounts"
LOCATIONS = f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/locations"
CS_API = {"api-version": "2025-06-01"}
INSIGHTS_API = {"api-version": "2021-05-01-preview"}
CAPACITY = {**CS_API, "modelFormat": "OpenAI", "modelName": "gpt-4.1", "modelVersion": "2025-04-14"}

# Values whose keys are data (tag names, capability names, endpoint names), not schema.
MAPS = {"tags", "properties.endpoints", "model.capabilities", "capabilities", "identity.userAssignedIdentities"}

_ACCOUNT_EXTRA = {
    "identity": "Account.identity (swagger); AOAI602 reads the managed identity",
    "systemData": "ARM returns systemData on every tracked resource (swagger Account.systemData)",
    "properties.internalId": "AccountProperties.internalId, read-only, returned by ARM",
    "properties.dateCreated": "AccountProperties.dateCreated, read-only, returned by ARM",
    "properties.endpoints": "AccountProperties.endpoints; the per-API endpoints of OpenAI/AIServices accounts",
    "properties.customSubDomainName": "AOAI002 reads it (Entra auth and private endpoints need one)",
    "properties.networkAcls": "AOAI401 reads defaultAction / ipRules / virtualNetworkRules",
    "properties.privateEndpointConnections": "AOAI402 and the fleet discovery read them from the account",
    "properties.publicNetworkAccess": "AOAI401 reads it",
    "properties.restrictOutboundNetworkAccess": "AOAI403 reads it",
    "properties.allowedFqdnList": "AOAI403 reads it with restrictOutboundNetworkAccess",
    "properties.disableLocalAuth": "AOAI601 reads it",
    "properties.encryption": "the CMK check reads keySource / keyVaultProperties",
}
EXTRA: dict[str, dict[str, str]] = {
    "GetAccount.json": _ACCOUNT_EXTRA,
    "ListDeployments.json": {
        "value[].systemData": "ARM returns systemData on deployments (swagger Deployment.systemData)",
        "value[].properties.raiPolicyName": "AOAI2xx reads the content filter policy",
        "value[].properties.versionUpgradeOption": "AOAI2xx reads the auto-upgrade option",
        "value[].properties.currentCapacity": "DeploymentProperties.currentCapacity, read-only, returned by ARM",
        "value[].properties.rateLimits": "DeploymentProperties.rateLimits, read-only, returned by ARM",
    },
    "listDiagnosticSettings.json": {
        "value[].properties.logs[].category": "LogSettings.category: a log listed by category instead of group",
        "value[].properties.logAnalyticsDestinationType": "DiagnosticSettings.logAnalyticsDestinationType (swagger)",
        "value[].properties.eventHubName": "DiagnosticSettings.eventHubName (swagger)",
    },
}

Case = tuple[str, str, dict[str, str], set[str], set[str]]
CASES: list[Case] = [
    (
        "GetAccount.json",
        f"{ACCOUNTS}/aoai-ready",
        CS_API,
        {
            "id",
            "name",
            "type",
            "location",
            "sku.name",
            "kind",
            "tags",
            "properties.endpoint",
            "properties.provisioningState",
        },
        set(),
    ),
    (
        "GetAccount.json",
        f"{ACCOUNTS}/aoai-legacy",
        CS_API,
        {"id", "name", "type", "location", "sku.name", "kind", "properties.provisioningState"},
        set(),
    ),
    (
        "ListDeployments.json",
        f"{ACCOUNTS}/aoai-ready/deployments",
        CS_API,
        {
            "value[].id",
            "value[].name",
            "value[].type",
            "value[].sku.name",
            "value[].sku.capacity",
            "value[].properties.model.format",
            "value[].properties.model.name",
            "value[].properties.model.version",
            "value[].properties.provisioningState",
        },
        set(),
    ),
    (
        "ListLocationModels.json",
        f"{LOCATIONS}/westeurope/models",
        CS_API,
        {
            "value[].kind",
            "value[].skuName",
            "value[].model.name",
            "value[].model.format",
            "value[].model.version",
            "value[].model.lifecycleStatus",
            "value[].model.skus[].name",
            "value[].model.skus[].usageName",
            "value[].model.skus[].capacity",
            "value[].model.deprecation.inference",
        },
        {
            "value[].model.replacementConfig.targetModelName",
            "value[].model.replacementConfig.targetModelVersion",
            "value[].model.deprecation.fineTune",
            "value[].model.skus[].deprecationDate",
            "value[].model.skus[].capacity.maximum",
        },
    ),
    (
        "ListLocationModels.json",
        f"{LOCATIONS}/swedencentral/models",
        CS_API,
        {"value[].model.name", "value[].model.version", "value[].model.lifecycleStatus", "value[].model.skus[].name"},
        set(),
    ),
    (
        "ListModelCapacities.json",
        f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/modelCapacities",
        CAPACITY,
        {
            "value[].location",
            "value[].name",
            "value[].properties.model.name",
            "value[].properties.model.version",
            "value[].properties.skuName",
            "value[].properties.availableCapacity",
        },
        set(),
    ),
    (
        "ListModelCapacities.json",
        f"{LOCATIONS}/eastus2/modelCapacities",
        CAPACITY,
        {"value[].location", "value[].properties.skuName", "value[].properties.availableCapacity"},
        set(),
    ),
    ("ListSkus.json", f"{ACCOUNTS}/aoai-ready/skus", CS_API, {"value[].resourceType", "value[].sku.name"}, set()),
    (
        "GetUsages.json",
        f"{ACCOUNTS}/aoai-legacy/usages",
        CS_API,
        {"value[].name.value", "value[].currentValue", "value[].limit", "value[].unit"},
        set(),
    ),
    (
        "ListUsages.json",
        f"{LOCATIONS}/westeurope/usages",
        CS_API,
        {"value[].name.value", "value[].name.localizedValue", "value[].currentValue", "value[].limit", "value[].unit"},
        set(),
    ),
    (
        "ListPrivateEndpointConnections.json",
        f"{ACCOUNTS}/aoai-legacy/privateEndpointConnections",
        CS_API,
        {
            "value[].id",
            "value[].name",
            "value[].type",
            "value[].properties.privateEndpoint.id",
            "value[].properties.privateLinkServiceConnectionState.status",
        },
        set(),
    ),
    (
        "listDiagnosticSettings.json",
        f"{ACCOUNTS}/aoai-ready/providers/Microsoft.Insights/diagnosticSettings",
        INSIGHTS_API,
        {
            "value[].id",
            "value[].name",
            "value[].type",
            "value[].properties.workspaceId",
            "value[].properties.logs[].enabled",
            "value[].properties.metrics[].category",
            "value[].properties.metrics[].enabled",
        },
        {"value[].properties.logs[].categoryGroup"},
    ),
    (
        "listDiagnosticSettingsCategories.json",
        f"{ACCOUNTS}/aoai-ready/providers/Microsoft.Insights/diagnosticSettingsCategories",
        INSIGHTS_API,
        {"value[].id", "value[].name", "value[].type", "value[].properties.categoryType"},
        {"value[].properties.categoryGroups"},
    ),
]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape(value: Any, prefix: str = "", out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every key path in ``value`` with the JSON types seen there (list items merged as ``[]``)."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.setdefault(path, set())
            if item is not None:
                out[path].add(_kind(item))
            if path.split("[].")[-1] not in MAPS and path not in MAPS:
                shape(item, path, out)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{prefix}[]", out)
    return out


def _allowed(path: str, example: dict[str, set[str]], extra: dict[str, str]) -> bool:
    if path in example:
        return True
    return any(path == e or path.startswith((e + ".", e + "[]")) for e in extra)


def _items_with(body: Any, path: str) -> tuple[int, int]:
    """(items, items holding ``path``) for the first list level of ``path`` (1, 0|1 for objects)."""
    if "[]" not in path:
        return 1, int(path in shape(body))
    head, _, rest = path.partition("[].")
    items = body
    for key in head.split("."):
        items = items[key]
    holding = sum(1 for item in items if rest in shape(item) or (rest == "" and item is not None))
    return len(items), holding


@pytest.fixture(scope="module")
def client(emulator: server.RunningEmulator) -> Any:
    context = ssl.create_default_context(cafile=str(emulator.ca_path))
    with httpx.Client(
        base_url=emulator.url, verify=context, headers={"authorization": f"Bearer {FAKE_TOKEN}"}, timeout=10
    ) as c:
        yield c


@pytest.mark.parametrize(("example", "path", "params", "required", "sometimes"), CASES, ids=[c[1] for c in CASES])
def test_emulator_json_matches_the_official_example(
    client: httpx.Client, example: str, path: str, params: dict[str, str], required: set[str], sometimes: set[str]
) -> None:
    spec = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))
    expected = spec["responses"]["200"]["body"]
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    ours = response.json()
    theirs = shape(expected)
    mine = shape(ours)
    extra = EXTRA.get(example, {})

    invented = sorted(p for p in mine if not _allowed(p, theirs, extra))
    assert invented == [], f"keys the example {example} lacks (document them in EXTRA if deliberate): {invented}"
    for p in required | sometimes:
        assert p in theirs or _allowed(p, theirs, extra), f"{p} is not an example key of {example}"
    for p in required:
        total, holding = _items_with(ours, p)
        assert total > 0, f"no items to check {p} in {path}"
        assert holding == total, f"{p} missing in {total - holding} of {total} items of {path}"
    for p in sometimes:
        assert _items_with(ours, p)[1] > 0, f"{p} appears in no item of {path}"
    for p, kinds in mine.items():
        if p in theirs and kinds and theirs[p]:
            assert kinds <= theirs[p] | ({"int"} if "number" in theirs[p] else set()), (
                f"{p}: emulator types {kinds}, example types {theirs[p]}"
            )


def test_every_documented_extra_is_absent_from_the_example() -> None:
    """EXTRA stays honest: each entry names a key the example really lacks."""
    for example, extra in EXTRA.items():
        theirs = shape(json.loads((EXAMPLES / example).read_text(encoding="utf-8"))["responses"]["200"]["body"])
        for key in extra:
            assert key not in theirs, f"{key} is in {example}: not an extra"
            assert extra[key], f"{key} needs a reason"
