"""``aoai.preflight.capacity``: the pure part (query validation, fit, sort, lifecycle, exit codes),
the table format, and the ARM fetch against the emulator (request count, filtering before fetching)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aoai.config import arm_settings
from aoai.emulator import server
from aoai.errors import ExitCode, NotFoundError, UsageError
from aoai.preflight.arm import fetch_capacity_inputs
from aoai.preflight.capacity import (
    CapacityInputs,
    CapacityOptions,
    CapacityQuery,
    build_query,
    candidate_regions,
    evaluate,
    parse_regions,
    prepare,
    resolve_version,
    run,
)
from aoai.preflight.catalog import Catalog
from aoai.preflight.catalog import load as load_catalog
from aoai.preflight.formats import capacity as capacity_table
from aoai.preflight.snapshot import Part, PartError

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MODEL, VERSION, GS = "gpt-4.1", "2025-04-14", "GlobalStandard"
CATALOG = load_catalog()


# ---- builders of raw ARM items (the shapes ModelCapacities_List / Usages_List / Models_List return)


def cap(region: str, available: int, sku: str = GS, model: str = MODEL, version: str = VERSION) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/s/providers/Microsoft.CognitiveServices/locations/{region}/models/"
        f"OpenAI.{model}.{version}/skuCapacities/{sku}",
        "name": sku,
        "location": region,
        "properties": {
            "model": {"format": "OpenAI", "name": model, "version": version},
            "skuName": sku,
            "availableCapacity": available,
            "availableFinetuneCapacity": 0,
        },
    }


def usage(name: str, limit: int, current: int) -> dict[str, Any]:
    return {"name": {"value": name, "localizedValue": name}, "currentValue": current, "limit": limit, "unit": "Count"}


def days(n: int) -> str:
    return (NOW + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def model_entry(
    *,
    name: str = MODEL,
    version: str = VERSION,
    lifecycle: str = "GenerallyAvailable",
    inference_in: int | None = 400,
    default: bool = True,
    skus: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    model: dict[str, Any] = {
        "format": "OpenAI",
        "name": name,
        "version": version,
        "lifecycleStatus": lifecycle,
        "isDefaultVersion": default,
        "skus": skus
        if skus is not None
        else [
            {"name": GS, "usageName": f"OpenAI.{GS}.{name}", "capacity": {"default": 50, "maximum": 1000, "minimum": 1}}
        ],
    }
    if inference_in is not None:
        model["deprecation"] = {"inference": days(inference_in)}
    return {"kind": "OpenAI", "skuName": "S0", "model": model}


def ok(name: str, data: list[dict[str, Any]]) -> Part:
    return Part(name=name, operation="x", data=data)


def failed(name: str, status: int | None, code: str = "InternalServerError") -> Part:
    return Part(name=name, operation="x", error=PartError(message="boom", status=status, code=code))


def inputs(
    capacities: list[dict[str, Any]],
    usages: dict[str, Part | list[dict[str, Any]]],
    models: dict[str, Part | list[dict[str, Any]]] | None = None,
    *,
    version: str = VERSION,
    source: str = "flag",
) -> CapacityInputs:
    def part(name: str, value: Part | list[dict[str, Any]]) -> Part:
        return value if isinstance(value, Part) else ok(name, value)

    model_parts = models if models is not None else {r: [model_entry()] for r in usages}
    return CapacityInputs(
        subscription="sub-1",
        version=version,
        version_source=source,
        capacities=capacities,
        usages={r: part("usages", v) for r, v in usages.items()},
        location_models={r: part("location_models", v) for r, v in model_parts.items()},
        requests=11,
        elapsed_ms=12.5,
        arm_endpoint="https://management.azure.com",
    )


def default_like() -> CapacityInputs:
    """The emulator's default story: eastus2 most capacity but no quota; sweden/westus3 fit;
    westeurope fits but has no Responses API; japaneast has no capacity."""
    name = f"OpenAI.{GS}.{MODEL}"
    return inputs(
        [
            cap("eastus2", 5000),
            cap("swedencentral", 2000),
            cap("westus3", 1500),
            cap("westeurope", 3000),
            cap("japaneast", 0),
        ],
        {
            "eastus2": [usage(name, 1000, 990)],
            "swedencentral": [usage(name, 1000, 50), usage(f"OpenAI.{GS}.gpt-5-mini", 1000, 100)],
            "westus3": [usage(name, 1000, 0)],
            "westeurope": [usage(name, 1000, 0)],
            "japaneast": [usage(name, 1000, 0)],
        },
    )


def query(**kw: Any) -> CapacityQuery:
    return build_query(model=MODEL, **{"version": VERSION, **kw})


# ---- options


def test_parse_regions_normalises_dedupes_and_splits() -> None:
    assert parse_regions(["Sweden Central,eastus2", "EastUS2", " westus3 ,", ""]) == (
        "swedencentral",
        "eastus2",
        "westus3",
    )


@pytest.mark.parametrize("bad", ["sweden-central", "eu/west", "1abc", "x", "a" * 41, "east_us"])
def test_parse_regions_rejects_what_cannot_be_a_location(bad: str) -> None:
    with pytest.raises(UsageError, match="not an Azure region name"):
        parse_regions([bad])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": 0}, "--capacity must be a positive"),
        ({"capacity": -5}, "--capacity must be a positive"),
        ({"retirement_days": -1}, "--retirement-days"),
        ({"sku": "Global Standard"}, "--sku"),
        ({"version": "2025 04"}, "--version"),
    ],
)
def test_build_query_rejects_bad_input(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        build_query(model=MODEL, **kwargs)


@pytest.mark.parametrize("model", ["", "  ", "gpt 4", "gpt/4"])
def test_build_query_rejects_bad_model(model: str) -> None:
    with pytest.raises(UsageError, match="-m/--model"):
        build_query(model=model)


def test_build_query_defaults() -> None:
    q = build_query(model=" gpt-4.1 ")
    assert (q.model, q.version, q.sku, q.capacity, q.wanted, q.retirement_days) == (MODEL, None, None, None, 1, 90)


# ---- evaluate: fit and order


def test_default_story_sorted_fitting_first_then_by_what_can_be_deployed() -> None:
    result = evaluate(query(sku=GS, capacity=100), default_like(), CATALOG, NOW)
    order = [(r.region, r.fits) for r in result.rows]
    assert order == [
        ("westeurope", True),  # 1000 deployable (3000 available)
        ("westus3", True),  # 1000 deployable (1500 available)
        ("swedencentral", True),  # 950 deployable
        ("eastus2", False),  # most capacity, 10 quota left
        ("japaneast", False),  # no capacity
    ]
    rows = {r.region: r for r in result.rows}
    assert rows["eastus2"].available == 5000 and rows["eastus2"].quota_left == 10
    assert "quota short (10 left)" in rows["eastus2"].notes
    assert rows["japaneast"].notes[0] == "no capacity"
    assert rows["swedencentral"].quota_left == 950 and rows["swedencentral"].max_deployable == 950
    assert rows["westeurope"].responses_api is False and rows["westus3"].responses_api is True
    assert result.exit_code is ExitCode.OK
    assert result.summary().startswith("3 of 5 regions fit gpt-4.1 2025-04-14")


def test_no_region_fits_is_exit_1() -> None:
    result = evaluate(query(capacity=1200), default_like(), CATALOG, NOW)
    assert not result.fitting and result.exit_code is ExitCode.NOT_READY
    assert all("over the SKU maximum (1000 per deployment)" in r.notes for r in result.rows)


def test_without_capacity_any_capacity_and_quota_fits() -> None:
    result = evaluate(query(), default_like(), CATALOG, NOW)
    assert {r.region for r in result.fitting} == {"westeurope", "westus3", "swedencentral", "eastus2"}
    assert result.rows[-1].region == "japaneast"


def test_capacity_short_is_reported() -> None:
    data = inputs([cap("westus3", 80)], {"westus3": [usage(f"OpenAI.{GS}.{MODEL}", 1000, 0)]})
    (row,) = evaluate(query(capacity=100), data, CATALOG, NOW).rows
    assert not row.fits and row.notes[0] == "capacity short (80 available)"


def test_missing_usage_entry_means_no_quota() -> None:
    data = inputs([cap("westus3", 1500)], {"westus3": [usage("OpenAI.Standard.gpt-4o", 100, 0)]})
    (row,) = evaluate(query(capacity=10), data, CATALOG, NOW).rows
    assert not row.fits and row.quota_left == 0
    assert any("no OpenAI.GlobalStandard.gpt-4.1 usage" in n for n in row.notes)


def test_usage_name_comes_from_the_location_model_sku() -> None:
    sku = {"name": GS, "usageName": "OpenAI.GlobalStandard.gpt-4.1-custom", "capacity": {"maximum": 1000}}
    data = inputs(
        [cap("westus3", 1500)],
        {"westus3": [usage("OpenAI.GlobalStandard.gpt-4.1-custom", 300, 100), usage(f"OpenAI.{GS}.{MODEL}", 1, 1)]},
        {"westus3": [model_entry(skus=[sku])]},
    )
    (row,) = evaluate(query(capacity=150), data, CATALOG, NOW).rows
    assert row.usage_name == "OpenAI.GlobalStandard.gpt-4.1-custom" and row.quota_left == 200 and row.fits


def test_sku_filter_and_several_skus_per_region() -> None:
    name = f"OpenAI.{GS}.{MODEL}"
    data = inputs(
        [cap("westus3", 1500), cap("westus3", 300, sku="Standard")],
        {"westus3": [usage(name, 1000, 0), usage(f"OpenAI.Standard.{MODEL}", 50, 50)]},
    )
    both = evaluate(query(capacity=10), data, CATALOG, NOW)
    assert [(r.sku, r.fits) for r in both.rows] == [(GS, True), ("Standard", False)]
    assert "region/SKU pairs" in both.summary()
    only = evaluate(query(capacity=10, sku="standard"), data, CATALOG, NOW)
    assert [r.sku for r in only.rows] == ["Standard"]


# ---- lifecycle


def test_deprecated_and_retired_regions_are_skipped() -> None:
    name = f"OpenAI.{GS}.{MODEL}"
    data = inputs(
        [cap("westus3", 1500), cap("eastus2", 1500), cap("swedencentral", 1500)],
        {r: [usage(name, 1000, 0)] for r in ("westus3", "eastus2", "swedencentral")},
        {
            "westus3": [model_entry(lifecycle="Deprecated", inference_in=-10)],
            "eastus2": [model_entry(lifecycle="Deprecating", inference_in=-1)],
            "swedencentral": [model_entry()],
        },
    )
    result = evaluate(query(capacity=10), data, CATALOG, NOW)
    assert [r.region for r in result.rows] == ["swedencentral"]
    reasons = {s.region: s.reason for s in result.skipped}
    assert "Deprecated" in reasons["westus3"]
    assert reasons["eastus2"].startswith("model retired on")


def test_retiring_within_the_window_is_flagged_and_ranked_after_lasting_fits() -> None:
    name = f"OpenAI.{GS}.{MODEL}"
    data = inputs(
        [cap("westus3", 3000), cap("swedencentral", 1500)],
        {r: [usage(name, 1000, 0)] for r in ("westus3", "swedencentral")},
        {
            "westus3": [model_entry(lifecycle="Deprecating", inference_in=40)],
            "swedencentral": [model_entry(inference_in=400)],
        },
    )
    result = evaluate(query(capacity=10, retirement_days=90), data, CATALOG, NOW)
    assert [(r.region, r.retiring) for r in result.rows] == [("swedencentral", False), ("westus3", True)]
    west = result.rows[1]
    assert west.fits and west.retires_on == (NOW + timedelta(days=40)).date().isoformat()
    assert any(n.startswith("retires ") and "(in 40 days)" in n for n in west.notes)
    assert "lifecycle Deprecating" in west.notes
    wide = evaluate(query(capacity=10, retirement_days=500), data, CATALOG, NOW)
    assert all(r.retiring for r in wide.rows)


def test_sku_deprecation_date_counts_as_retirement() -> None:
    sku = {"name": GS, "usageName": f"OpenAI.{GS}.{MODEL}", "deprecationDate": days(20)}
    data = inputs(
        [cap("westus3", 1500)],
        {"westus3": [usage(f"OpenAI.{GS}.{MODEL}", 1000, 0)]},
        {"westus3": [model_entry(inference_in=None, skus=[sku])]},
    )
    (row,) = evaluate(query(), data, CATALOG, NOW).rows
    assert row.retiring and row.retires_on == (NOW + timedelta(days=20)).date().isoformat()


def test_model_missing_from_the_region_list_keeps_the_row_but_never_guesses_the_quota_name() -> None:
    data = inputs([cap("westus3", 1500)], {"westus3": [usage(f"OpenAI.{GS}.{MODEL}", 1000, 0)]}, {"westus3": []})
    result = evaluate(query(capacity=10), data, CATALOG, NOW)
    (row,) = result.rows
    assert not row.fits and row.lifecycle is None and row.usage_name is None
    assert any("not in the region's model list" in n for n in row.notes)
    # The usage name comes from ARM's skus[].usageName only; the related names are listed instead.
    assert row.error is not None and "quota could not be matched" in row.error
    assert f"OpenAI.{GS}.{MODEL}" in row.error and result.exit_code == 4


# ---- errors and exit codes


def test_failed_usages_make_the_result_incomplete_when_nothing_fits() -> None:
    data = inputs(
        [cap("westus3", 1500), cap("japaneast", 0)],
        {"westus3": failed("usages", 500), "japaneast": [usage(f"OpenAI.{GS}.{MODEL}", 1000, 0)]},
    )
    result = evaluate(query(capacity=10), data, CATALOG, NOW)
    west = next(r for r in result.rows if r.region == "westus3")
    assert not west.fits and west.quota_left is None and "Usages_List failed" in (west.error or "")
    assert result.exit_code is ExitCode.INCOMPLETE


def test_refused_usages_are_an_auth_problem() -> None:
    data = inputs([cap("westus3", 1500)], {"westus3": failed("usages", 403, "AuthorizationFailed")})
    assert evaluate(query(capacity=10), data, CATALOG, NOW).exit_code is ExitCode.AUTH


def test_failed_usages_where_capacity_is_short_anyway_do_not_block_a_no() -> None:
    data = inputs([cap("westus3", 5)], {"westus3": failed("usages", 500)})
    assert evaluate(query(capacity=10), data, CATALOG, NOW).exit_code is ExitCode.NOT_READY


def test_a_fit_elsewhere_wins_over_errors() -> None:
    data = inputs(
        [cap("westus3", 1500), cap("eastus2", 1500)],
        {"westus3": failed("usages", 500), "eastus2": [usage(f"OpenAI.{GS}.{MODEL}", 1000, 0)]},
        {"westus3": failed("location_models", 500), "eastus2": [model_entry()]},
    )
    result = evaluate(query(capacity=10), data, CATALOG, NOW)
    assert result.exit_code is ExitCode.OK and [r.region for r in result.rows] == ["eastus2", "westus3"]
    assert any("lifecycle unknown" in n for n in result.rows[1].notes)


def test_model_offered_nowhere_is_not_found() -> None:
    with pytest.raises(NotFoundError, match=re.escape("gpt-4.1 2025-04-14 is not offered in any region")):
        evaluate(query(), inputs([], {}), CATALOG, NOW)


def test_model_offered_on_other_skus_names_them() -> None:
    data = inputs([cap("westus3", 100, sku="Standard")], {})
    with pytest.raises(NotFoundError) as info:
        evaluate(query(sku="ProvisionedManaged"), data, CATALOG, NOW)
    assert "on SKU ProvisionedManaged" in info.value.message and "Standard" in (info.value.hint or "")


# ---- filters


def test_regions_filter_and_requested_regions_that_are_not_offered() -> None:
    result = evaluate(query(capacity=100, regions=["swedencentral", "westus"]), default_like(), CATALOG, NOW)
    assert [(r.region, r.offered, r.fits) for r in result.rows] == [
        ("swedencentral", True, True),
        ("westus", False, False),
    ]
    assert "not offered here" in result.rows[1].notes[0]


def test_responses_only_drops_regions_without_the_responses_api() -> None:
    result = evaluate(query(capacity=100, responses_only=True), default_like(), CATALOG, NOW)
    assert "westeurope" not in {r.region for r in result.rows}
    assert [s.region for s in result.skipped] == ["westeurope"]
    assert all(r.responses_api for r in result.rows)


def test_responses_only_with_a_model_outside_the_catalog() -> None:
    catalog = Catalog(regions=CATALOG.regions, models=(), sources=CATALOG.sources)
    result = evaluate(query(responses_only=True), default_like(), catalog, NOW)
    assert result.rows == [] and result.exit_code is ExitCode.NOT_READY
    assert any("not in the Responses API model catalog" in n for n in result.notes)


def test_candidate_regions_are_filtered_before_any_usage_call() -> None:
    caps = [*default_like().capacities, cap("westus3", 10, sku="Standard")]
    assert candidate_regions(query(), VERSION, caps, CATALOG) == [
        "eastus2",
        "swedencentral",
        "westus3",
        "westeurope",
        "japaneast",
    ]
    assert candidate_regions(query(responses_only=True, regions=["westeurope", "westus3"]), VERSION, caps, CATALOG) == [
        "westus3"
    ]
    assert candidate_regions(query(sku="Standard"), VERSION, caps, CATALOG) == ["westus3"]
    assert candidate_regions(query(), "2099-01-01", caps, CATALOG) == []


# ---- version resolution


def test_resolve_version_prefers_the_default_then_the_newest() -> None:
    lists = {
        "eastus2": [model_entry(version="2024-01-01", default=False), model_entry(version="2025-04-14")],
        "swedencentral": [model_entry(version="2025-04-14"), model_entry(version="2026-01-01", default=False)],
    }
    assert resolve_version(query(version=None), lists) == "2025-04-14"
    no_default = {
        "eastus2": [model_entry(version="2024-01-01", default=False), model_entry(version="2026-01-01", default=False)]
    }
    assert resolve_version(query(version=None), no_default) == "2026-01-01"
    deprecated = {
        "eastus2": [
            model_entry(version="2026-01-01", lifecycle="Deprecated"),
            model_entry(version="2024-01-01", default=False),
        ]
    }
    assert resolve_version(query(version=None), deprecated) == "2024-01-01"
    standard_only = [{"name": "Standard", "usageName": "x"}]
    by_sku = {
        "eastus2": [
            model_entry(version="2026-01-01", skus=standard_only),
            model_entry(version="2024-01-01", default=False),
        ]
    }
    assert resolve_version(query(version=None, sku=GS), by_sku) == "2024-01-01"
    assert resolve_version(query(version=None), {"eastus2": [model_entry(name="gpt-5")]}) is None
    assert resolve_version(query(version=None), {}) is None


# ---- sort invariant


@given(
    st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 1000), st.integers(0, 1000), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 1500),
)
def test_fitting_rows_always_come_first_and_by_deployable_capacity(
    specs: list[tuple[int, int, int, bool]], wanted: int
) -> None:
    regions = [f"region{i}" for i in range(len(specs))]
    name = f"OpenAI.{GS}.{MODEL}"
    data = inputs(
        [cap(r, available) for r, (available, _l, _u, _f) in zip(regions, specs, strict=True)],
        {
            r: (failed("usages", 500) if broken else [usage(name, limit, used)])
            for r, (_a, limit, used, broken) in zip(regions, specs, strict=True)
        },
    )
    result = evaluate(query(capacity=wanted), data, CATALOG, NOW)
    fits = [r.fits for r in result.rows]
    assert fits == sorted(fits, reverse=True)
    for row in result.rows:
        assert row.fits == (
            row.available is not None
            and row.quota_left is not None
            and row.available >= wanted
            and row.quota_left >= wanted
            and wanted <= 1000
        )
    deployable = [r.max_deployable for r in result.fitting]
    assert deployable == sorted(deployable, reverse=True)  # type: ignore[type-var]
    assert (result.exit_code is ExitCode.OK) == bool(result.fitting)


# ---- document and table


def test_json_document_shape() -> None:
    result = evaluate(query(capacity=100), default_like(), CATALOG, NOW)
    document = json.loads(json.dumps(result.to_dict()))
    assert document["kind"] == "aoai-capacity" and document["fits"] == 3 and document["exit_code"] == 0
    assert document["model"] == {"format": "OpenAI", "name": MODEL, "version": VERSION, "version_source": "flag"}
    assert document["generated_at"] == "2026-11-21T12:00:00Z"
    first = document["rows"][0]
    assert set(first) >= {"region", "sku", "available_capacity", "quota_left", "fits", "lifecycle", "responses_api"}
    assert document["arm"]["requests"] == 11
    assert document["catalog"][0]["kind"] == "responses-regions"


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_table_lists_rows_in_order_with_summary_and_left_out() -> None:
    result = evaluate(query(capacity=100, responses_only=True), default_like(), CATALOG, NOW)
    text = capacity_table.render(result, width=120)
    assert not ANSI.search(text)
    lines = text.splitlines()
    assert lines[0].startswith("gpt-4.1 2025-04-14 (OpenAI) · every SKU · capacity 100 · subscription sub-1")
    assert re.search(r"Region\s+SKU\s+Available\s+Quota left\s+Fits\s+Lifecycle\s+Responses API\s+Notes", lines[1])
    body = [line.split()[0] for line in lines[3:7]]
    assert body == ["westus3", "swedencentral", "eastus2", "japaneast"]
    assert re.search(r"swedencentral\s+GlobalStandard\s+2000\s+950 of 1000\s+yes\s+GA\s+yes", text)
    assert re.search(r"eastus2\s+GlobalStandard\s+5000\s+10 of 1000\s+no\s+GA\s+yes\s+quota short", text)
    assert "2 of 4 regions fit gpt-4.1 2025-04-14 (any SKU, capacity 100) (exit 0) · 11 ARM requests" in text
    assert "Left out: westeurope/GlobalStandard — no Responses API in this region (catalog)" in text


def test_table_colour_only_when_asked() -> None:
    result = evaluate(query(capacity=100), default_like(), CATALOG, NOW)
    assert ANSI.search(capacity_table.render(result, width=120, color=True))


def test_table_shows_unknown_quota_and_retirement() -> None:
    data = inputs(
        [cap("westus3", 1500)],
        {"westus3": failed("usages", 500)},
        {"westus3": [model_entry(lifecycle="Deprecating", inference_in=30)]},
    )
    text = capacity_table.render(evaluate(query(capacity=10), data, CATALOG, NOW), width=160)
    retires = (NOW + timedelta(days=30)).date().isoformat()
    assert re.search(rf"westus3\s+GlobalStandard\s+1500\s+\?\s+no\s+Deprecating, retires {retires} \(30 d\)", text)
    assert "quota unknown: Usages_List failed (500 InternalServerError: boom)" in " ".join(text.split())
    assert "lifecycle Deprecating" not in text  # said once, in the Lifecycle column
    assert "(exit 4)" in text


# ---- prepare (no network) and the fetch against the emulator


def test_prepare_needs_a_subscription(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no subscription given"):
        prepare(CapacityOptions(model=MODEL), {}, tmp_path)


def test_prepare_reads_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / "aoai.toml").write_text(
        '[preflight]\nsubscription = "sub-from-file"\n[preflight.thresholds]\nretirement_days = 30\n'
        '[preflight.catalog]\nextra_regions = ["westeurope"]\n',
        encoding="utf-8",
    )
    prepared = prepare(CapacityOptions(model=MODEL, capacity=5), {"AZURE_SUBSCRIPTION_ID": "sub-env"}, tmp_path)
    assert prepared.subscription == "sub-from-file"
    assert prepared.query.retirement_days == 30 and prepared.query.capacity == 5
    assert prepared.catalog.supports_region("westeurope")
    flagged = prepare(CapacityOptions(model=MODEL, subscription="sub-flag", retirement_days=7), {}, tmp_path)
    assert flagged.subscription == "sub-flag" and flagged.query.retirement_days == 7


def _arm_paths(emu: server.RunningEmulator, since: int) -> list[str]:
    with emu.state.lock:
        return [r.path for r in emu.state.requests[since:]]


def _fetch(emu: server.RunningEmulator, q: CapacityQuery) -> tuple[CapacityInputs, list[str]]:
    env = emu.env
    settings = arm_settings(env, arm_endpoint=None, cloud=None, credential=None, ca_bundle_flag=None, subscription=None)
    assert settings.subscription
    since = len(emu.state.requests)
    data = fetch_capacity_inputs(settings, env, q, CATALOG, subscription=settings.subscription)
    return data, _arm_paths(emu, since)


def test_fetch_reads_capacities_once_then_each_candidate_region_once(emulator: server.RunningEmulator) -> None:
    data, paths = _fetch(emulator, query(sku=GS, capacity=100))
    assert data.requests == len(paths) == 11
    assert sum(p.endswith("/modelCapacities") for p in paths) == 1
    usage_regions = sorted(p.split("/locations/")[1].split("/")[0] for p in paths if p.endswith("/usages"))
    assert usage_regions == ["eastus2", "japaneast", "swedencentral", "westeurope", "westus3"]
    assert all(part.ok for part in [*data.usages.values(), *data.location_models.values()])
    result = evaluate(query(sku=GS, capacity=100), data, CATALOG, datetime.now(UTC))
    assert [r.region for r in result.fitting] == ["westeurope", "westus3", "swedencentral"]


def test_fetch_filters_before_fetching(emulator: server.RunningEmulator) -> None:
    data, paths = _fetch(emulator, query(capacity=100, responses_only=True))
    assert not any("/locations/westeurope/" in p for p in paths)
    assert data.requests == len(paths) == 9
    _data, paths = _fetch(emulator, query(regions=["swedencentral", "westus"]))
    assert len(paths) == 3  # capacities + swedencentral usages and models; westus offers nothing


def test_fetch_without_version_reuses_the_seed_model_lists(emulator: server.RunningEmulator) -> None:
    data, paths = _fetch(emulator, query(version=None))
    assert (data.version, data.version_source) == (VERSION, "default")
    models_calls = [p for p in paths if p.endswith("/models")]
    assert len(models_calls) == len(set(models_calls))  # each region's list read once
    assert len(paths) == 12  # 3 seed lists + capacities + 5 usages + 3 remaining model lists


def test_run_with_an_injected_fetcher(tmp_path: Path) -> None:
    prepared = prepare(CapacityOptions(model=MODEL, version=VERSION, capacity=100, subscription="sub-1"), {}, tmp_path)
    seen: list[str] = []

    def fake(settings: Any, env: Any, q: CapacityQuery, catalog: Catalog, subscription: str) -> CapacityInputs:
        seen.append(subscription)
        return default_like()

    result = run(prepared, {}, fetch=fake, now=NOW)
    assert seen == ["sub-1"] and len(result.fitting) == 3


# ---- real ARM example payloads (Azure REST API specs), when the reference folder is present


def _example(name: str) -> list[dict[str, Any]]:
    from tests.conftest import REFERENCE

    path = REFERENCE / "arm-examples" / name
    if not path.is_file():
        pytest.skip(f"reference example {name} not present")
    value: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["responses"]["200"]["body"]["value"]
    return value


def test_real_example_payloads() -> None:
    capacities, usages, models = (
        _example("ListModelCapacities.json"),
        _example("ListUsages.json"),
        _example("ListLocationModels.json"),
    )
    ada = build_query(model="ada", version="1")
    assert candidate_regions(ada, "1", capacities, CATALOG) == ["westus"]  # "WestUS" normalised
    data = CapacityInputs("s", "1", "flag", capacities, {"westus": ok("usages", usages)})
    (row,) = evaluate(ada, data, CATALOG, NOW).rows  # no model list read: lifecycle unknown, row kept
    assert (row.region, row.sku, row.available, row.quota_left, row.fits) == ("westus", "Standard", 300, None, False)
    # No model list, so no usage name from ARM: the quota is not matched by a guessed name.
    assert row.error is not None and row.error.startswith("quota could not be matched")
    data.location_models = {"westus": ok("location_models", models)}
    result = evaluate(ada, data, CATALOG, NOW)  # ada 1 retired for inference on 2024-06-14
    assert result.rows == [] and result.skipped[0].reason == "model retired on 2024-06-14 in westus"
    assert resolve_version(build_query(model="gpt-4o"), {"westus": models}) == "2024-08-06"
