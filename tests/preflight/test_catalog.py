"""The Responses catalog: the newest Microsoft Learn read (25 regions, models up to gpt-5.5)."""

from __future__ import annotations

from aoai.preflight.catalog import Catalog, ModelEntry, load, normalize_region

from ..conftest import REFERENCE


def test_builtin_catalog() -> None:
    catalog = load()
    assert len(catalog.regions) == 25
    assert catalog.supports_region("swedencentral") and catalog.supports_region("East US 2")
    assert not catalog.supports_region("westeurope")
    assert catalog.supports_model("gpt-5.5", "2026-04-24")
    assert catalog.supports_model("gpt-4o", "2024-05-13") and not catalog.supports_model("gpt-4o", "2024-01-01")
    assert catalog.supports_model("computer-use-preview", "2025-03-11")  # listed without a version
    assert catalog.versions_of("gpt-5.2-chat") == ["2025-12-11", "2026-02-10"]
    for source in catalog.sources:
        assert source.url.startswith("https://learn.microsoft.com/")
        assert source.read_on and source.version


def test_catalog_matches_the_seed_document() -> None:
    seeds = sorted((REFERENCE / "seeds").glob("003_*.txt")) if (REFERENCE / "seeds").is_dir() else []
    if not seeds:
        import pytest

        pytest.skip("reference seeds are not available")
    text = seeds[0].read_text(encoding="utf-8")
    for region in load().regions:
        assert f"- {region}\n" in text
    for model in load().models:
        assert model.name in text and (model.version is None or model.version in text)


def test_overrides_and_round_trip() -> None:
    catalog = load().with_overrides(extra_regions=["West Europe"], models=["gpt-6@2026-10-01"])
    assert catalog.supports_region("westeurope")
    assert catalog.models == (ModelEntry("gpt-6", "2026-10-01"),)
    assert catalog.overrides == {"extra_regions": ["West Europe"], "models": ["gpt-6@2026-10-01"]}
    assert Catalog.from_dict(catalog.to_dict()) == catalog
    assert normalize_region(" Sweden Central ") == "swedencentral"
