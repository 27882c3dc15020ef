"""``aoai.preflight.fleet`` without a network: the query, option validation, the read governor,
rows to snapshots, discovery paging and the bounded gather (with fake readers)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from aoai.errors import AoaiError, UsageError
from aoai.preflight import fleet
from aoai.preflight.arm import GraphPage
from aoai.preflight.snapshot import Part, Target

SUB = "00000000-0000-0000-0000-0000000f0001"
SUB2 = "00000000-0000-0000-0000-0000000f0002"


def _id(name: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/rg-x/providers/Microsoft.CognitiveServices/accounts/{name}"


def _row(name: str, sub: str = SUB, location: str = "swedencentral", **properties: Any) -> dict[str, Any]:
    return {
        "id": _id(name, sub),
        "name": name,
        "type": "microsoft.cognitiveservices/accounts",
        "kind": "OpenAI",
        "location": location,
        "resourceGroup": "rg-x",
        "subscriptionId": sub,
        "tenantId": "t",
        "sku": {"name": "S0"},
        "identity": None,
        "properties": {"provisioningState": "Succeeded", **properties},
        "tags": {"env": "prod"},
        "zones": None,
    }


# ---- the query --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "predicate",
    [
        "tags.env == 'prod'",
        "tags['team'] in~ ('payments', 'search') and location =~ 'swedencentral'",
        "name contains '|'",  # a pipe inside a string is data
        'properties.endpoint has "a|b"',
        "name == 'it\\'s'",
        "name == @'C:\\' or name == 'x'",  # verbatim string: the backslash escapes nothing
        "not(isnull(identity))",
    ],
)
def test_predicates_are_accepted(predicate: str) -> None:
    assert fleet.check_where(f"  {predicate} ") == predicate


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("tags.env == 'prod' | take 5", "not a pipeline"),
        ("tags.env == 'prod') or (1 == 1", "unbalanced"),
        ("(tags.env == 'prod'", "unbalanced"),
        ("tags.env == 'prod", "unterminated"),
    ],
)
def test_bad_predicates_are_usage_errors(predicate: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        fleet.check_where(predicate)


def test_query_filters_kind_and_type_then_each_where_then_projects_and_orders() -> None:
    query = fleet.build_query(["tags.env == 'prod'", "location =~ 'eastus2'"])
    lines = query.splitlines()
    assert lines[:3] == [
        "Resources",
        "| where type =~ 'microsoft.cognitiveservices/accounts'",
        "| where kind in~ ('OpenAI', 'AIServices')",
    ]
    assert lines[3:5] == ["| where (tags.env == 'prod')", "| where (location =~ 'eastus2')"]
    assert lines[5].startswith("| project id, name, type, kind, location,") and "properties" in lines[5]
    assert lines[-1] == "| order by id asc"
    assert fleet.build_query().count("| where") == 2


# ---- options ----------------------------------------------------------------------------------


def _prepare(tmp_path: Path, **options: Any) -> fleet.FleetPrepared:
    env = {"AOAI_ARM_ENDPOINT": "https://127.0.0.1:1", "HOME": str(tmp_path)}
    return fleet.prepare(fleet.FleetOptions(**options), env, tmp_path)


def test_prepare_builds_scope_query_and_selection(tmp_path: Path) -> None:
    prepared = _prepare(tmp_path, subscriptions=(SUB, SUB.upper(), SUB2), where=("tags.env == 'prod'",))
    assert prepared.scope.subscriptions == (SUB, SUB2)  # case-insensitive de-duplication
    assert "| where (tags.env == 'prod')" in prepared.query
    assert prepared.concurrency == fleet.DEFAULT_CONCURRENCY
    assert "AOAI401" in prepared.selection.selected
    assert _prepare(tmp_path).scope.describe() == "every subscription the credential can read"
    assert "mg-a" in _prepare(tmp_path, management_groups=("mg-a",)).scope.describe()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subscriptions": (SUB,), "management_groups": ("mg",)}, "not both"),
        ({"subscriptions": ("payments-prod",)}, "not a subscription id"),
        ({"management_groups": (" ",)}, "empty"),
        ({"concurrency": 0}, "--concurrency"),
        ({"concurrency": fleet.MAX_CONCURRENCY + 1}, "--concurrency"),
        ({"where": ("a == 1 | take 1",)}, "pipeline"),
    ],
)
def test_prepare_rejects_bad_options(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _prepare(tmp_path, **options)


# ---- the read governor ------------------------------------------------------------------------


def test_governor_paces_a_subscription_only_when_its_reads_run_low() -> None:
    slept: list[float] = []
    governor = fleet.ReadGovernor(16, max_pause=1.0, sleep=slept.append)
    url = f"https://management.azure.com/subscriptions/{SUB.upper()}/providers/x?api-version=1"
    other = f"https://management.azure.com/subscriptions/{SUB2}/providers/x"
    governor.before(url)
    assert slept == []  # nothing known yet
    governor.after(url, {fleet.RATE_LIMIT_HEADER: "200"})
    governor.before(url)
    assert slept == []
    governor.after(url, {fleet.RATE_LIMIT_HEADER: "8"})
    governor.before(url)
    governor.before(other)  # another subscription's budget is its own
    assert slept == [pytest.approx(0.5)]
    governor.after(url, {fleet.RATE_LIMIT_HEADER: "0"})  # a 429 says 0: the longest pause
    governor.before(url)
    assert slept[-1] == pytest.approx(1.0)
    assert governor.pauses == 2 and governor.paused_seconds == pytest.approx(1.5)
    assert governor.lowest == {SUB: 0}
    governor.after(url, {fleet.RATE_LIMIT_HEADER: "not-a-number"})
    governor.after("https://management.azure.com/providers/Microsoft.ResourceGraph/resources", {"x": "1"})
    assert governor.delay_for(url) == pytest.approx(1.0)
    assert governor.delay_for("https://management.azure.com/providers/Microsoft.ResourceGraph/resources") == 0


# ---- rows -> snapshots ------------------------------------------------------------------------


def test_snapshot_from_row_holds_the_account_and_embedded_private_endpoints() -> None:
    pec = {"name": "pe-1", "properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    found = fleet.DiscoveredAccount(Target.parse(_id("a1")), _row("a1", privateEndpointConnections=[pec]), "req-1")
    snapshot = fleet.snapshot_from_row(
        found, api_version="2021-03-01", taken_at="2026-01-01T00:00:00Z", arm_endpoint="e"
    )
    account = snapshot.parts["account"]
    assert account.operation == "Resources" and account.request_ids == ["req-1"] and account.api_version == "2021-03-01"
    assert set(account.data) == {"id", "name", "type", "kind", "location", "sku", "properties", "tags"}
    assert "identity" not in account.data  # Graph's null, left out as ARM does
    assert snapshot.location == "swedencentral"
    assert snapshot.parts["private_endpoint_connections"].data == [pec]
    # Without the embedded list, the part is left for a per-account call.
    bare = fleet.DiscoveredAccount(Target.parse(_id("a2")), _row("a2"), None)
    assert (
        "private_endpoint_connections"
        not in fleet.snapshot_from_row(bare, api_version="v", taken_at="2026-01-01T00:00:00Z", arm_endpoint="e").parts
    )


class _PagedReader:
    """Answers graph_page from a list of pages and records the skip tokens it was given."""

    def __init__(self, pages: list[GraphPage]) -> None:
        self.pages = pages
        self.tokens: list[str | None] = []

    def graph_page(self, query: str, scope: fleet.FleetScope, *, top: int, skip_token: str | None) -> GraphPage:
        self.tokens.append(skip_token)
        return self.pages[len(self.tokens) - 1]


def _page(rows: list[dict[str, Any]], token: str | None, request_id: str, truncated: bool = False) -> GraphPage:
    return GraphPage(rows, token, 3, truncated, request_id, "2021-03-01")


def test_discover_follows_skip_tokens_dedupes_and_skips_non_accounts() -> None:
    odd = {**_row("vm"), "type": "microsoft.compute/virtualmachines"}
    reader = _PagedReader(
        [
            _page([_row("a1"), _row("a2")], "t1", "r1"),
            _page([_row("a2"), odd, _row("a3", SUB2)], "t2", "r2"),
            _page([], None, "r3"),
        ]
    )
    found = fleet.discover(reader, "q", fleet.FleetScope(), page_size=2)  # type: ignore[arg-type]
    assert reader.tokens == [None, "t1", "t2"]
    assert [a.target.account for a in found.accounts] == ["a1", "a2", "a3"]
    assert [a.request_id for a in found.accounts] == ["r1", "r1", "r2"]
    assert found.pages == 3 and found.request_ids == ["r1", "r2", "r3"]
    assert found.skipped == [_id("vm")]


def test_a_truncated_result_without_skip_token_is_an_error() -> None:
    reader = _PagedReader([_page([_row("a1")], None, "r1", truncated=True)])
    with pytest.raises(AoaiError, match="truncated"):
        fleet.discover(reader, "q", fleet.FleetScope())  # type: ignore[arg-type]


# ---- gathering --------------------------------------------------------------------------------


class _FakeReader:
    """Counts calls and the most calls in flight at once; answers parts after a short sleep."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.calls: list[tuple[str, ...]] = []
        self._lock = threading.Lock()
        self._active = 0
        self.peak = 0

    def _work(self, *key: str) -> Part:
        with self._lock:
            self.calls.append(key)
            self._active += 1
            self.peak = max(self.peak, self._active)
        time.sleep(0.01)
        with self._lock:
            self._active -= 1
        return Part(name=key[0], operation="Op", data=[], request_ids=[f"req-{'-'.join(key)}"])

    def account_part(self, name: str, target: Target) -> Part:
        return self._work(str(name), target.account)

    def location_part(self, name: str, subscription: str, location: str) -> Part:
        return self._work(str(name), subscription, location)


class _Progress:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done: list[str] = []

    def discovered(self, total: int) -> None:
        self.total = total

    def advance(self, account: str) -> None:
        self.done.append(account)


def test_gather_reads_location_parts_once_per_pair_and_bounds_concurrency() -> None:
    rows = [_row(f"a{i}", SUB if i % 2 else SUB2, ("swedencentral", "eastus2")[i % 3 == 0]) for i in range(12)]
    rows.append({**_row("nowhere"), "location": None})
    snapshots = [
        fleet.snapshot_from_row(
            fleet.DiscoveredAccount(Target.parse(r["id"]), r, "g"),
            api_version="v",
            taken_at="2026-01-01T00:00:00Z",
            arm_endpoint="e",
        )
        for r in rows
    ]
    reader = _FakeReader(concurrency=3)
    progress = _Progress()
    stats = fleet.FleetStats()
    parts = {
        "account",
        "deployments",
        "diagnostic_settings",
        "private_endpoint_connections",
        "location_models",
        "usages",
        "probe",
    }
    fleet.gather(reader, snapshots, parts, progress=progress, stats=stats)  # type: ignore[arg-type]
    location_calls = [c for c in reader.calls if c[0] in ("location_models", "usages")]
    pairs = {(r["subscriptionId"], r["location"]) for r in rows if r["location"]}
    assert len(location_calls) == len(set(location_calls)) == 2 * len(pairs)
    assert stats.location_fetches == {"location_models": len(pairs), "usages": len(pairs)}
    account_calls = [c for c in reader.calls if c[0] not in ("location_models", "usages")]
    # 13 accounts x deployments, diagnostic settings, private endpoint connections (rows lack them)
    assert len(account_calls) == 13 * 3 and stats.account_fetches["deployments"] == 13
    assert 1 < reader.peak <= 3
    assert sorted(progress.done) == sorted(r["name"] for r in rows)
    for snapshot in snapshots:
        assert set(snapshot.parts) == parts - {"probe"}
    lost = snapshots[-1].parts["usages"]
    assert lost.error is not None and lost.error.code == "NoLocation"
    shared = [
        s.parts["location_models"] for s in snapshots if s.location == "eastus2" and s.target.subscription_id == SUB2
    ]
    assert len(shared) > 1 and all(p is shared[0] for p in shared)  # one fetch, one Part, shared
