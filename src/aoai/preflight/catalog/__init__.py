"""The Responses API catalog: which regions and which models (and versions) support it.

The data are versioned JSON files beside this module, each with its source (a Microsoft Learn
page) and the date it was read, because the service changes faster than releases. The policy
file can extend or replace both lists (``[preflight.catalog]``); the effective catalog is
embedded in the evidence, so ``aoai preflight verify`` re-evaluates with the catalog the run used.

ARM knows more than this catalog about a given account (lifecycle, deprecation dates, SKUs per
location): checks prefer ARM data wherever ARM has the fact, and use the catalog only for the
one fact ARM does not publish — Responses API support.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

REGIONS_FILE = "responses_regions.json"
MODELS_FILE = "responses_models.json"


def normalize_region(name: str) -> str:
    """ARM location names are lower case without spaces ("Sweden Central" -> "swedencentral")."""
    return "".join(name.split()).lower()


@dataclass(frozen=True)
class ModelEntry:
    name: str
    version: str | None = None  # None: every version

    @classmethod
    def parse(cls, text: str) -> ModelEntry:
        """``name`` or ``name@version``."""
        name, _, version = text.strip().partition("@")
        if not name.strip():
            raise ValueError(f"empty model name in {text!r}")
        return cls(name.strip(), version.strip() or None)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name

    def matches(self, name: str, version: str | None) -> bool:
        if self.name.lower() != name.lower():
            return False
        return self.version is None or version is None or self.version == version


@dataclass(frozen=True)
class CatalogSource:
    kind: str
    version: str
    title: str
    url: str
    read_on: str

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "version": self.version,
            "title": self.title,
            "url": self.url,
            "read_on": self.read_on,
        }


@dataclass(frozen=True)
class Catalog:
    regions: tuple[str, ...]
    models: tuple[ModelEntry, ...]
    sources: tuple[CatalogSource, ...]
    overrides: dict[str, Any] = field(default_factory=dict)  # what the policy file changed

    def supports_region(self, location: str) -> bool:
        return normalize_region(location) in {normalize_region(r) for r in self.regions}

    def supports_model(self, name: str, version: str | None) -> bool:
        return any(entry.matches(name, version) for entry in self.models)

    def versions_of(self, name: str) -> list[str]:
        return sorted({e.version for e in self.models if e.name.lower() == name.lower() and e.version})

    def model_names(self) -> set[str]:
        return {e.name.lower() for e in self.models}

    def with_overrides(
        self,
        *,
        regions: list[str] | None = None,
        extra_regions: list[str] | None = None,
        models: list[str] | None = None,
        extra_models: list[str] | None = None,
    ) -> Catalog:
        """A copy with the policy file's changes: ``regions``/``models`` replace, ``extra_*`` add."""
        new_regions = list(self.regions) if regions is None else [normalize_region(r) for r in regions]
        for region in extra_regions or []:
            if normalize_region(region) not in new_regions:
                new_regions.append(normalize_region(region))
        new_models = list(self.models) if models is None else [ModelEntry.parse(m) for m in models]
        for text in extra_models or []:
            entry = ModelEntry.parse(text)
            if entry not in new_models:
                new_models.append(entry)
        overrides = {
            key: value
            for key, value in (
                ("regions", regions),
                ("extra_regions", extra_regions),
                ("models", models),
                ("extra_models", extra_models),
            )
            if value is not None
        }
        return Catalog(tuple(new_regions), tuple(new_models), self.sources, {**self.overrides, **overrides})

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [s.to_dict() for s in self.sources],
            "overrides": self.overrides,
            "regions": list(self.regions),
            "models": [str(m) for m in self.models],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        return cls(
            regions=tuple(data["regions"]),
            models=tuple(ModelEntry.parse(m) for m in data["models"]),
            sources=tuple(CatalogSource(**s) for s in data["sources"]),
            overrides=dict(data.get("overrides") or {}),
        )


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _source(data: dict[str, Any]) -> CatalogSource:
    src = data["source"]
    return CatalogSource(data["kind"], data["version"], src["title"], src["url"], src["read_on"])


def load() -> Catalog:
    """The built-in catalog (no overrides)."""
    regions = _read(REGIONS_FILE)
    models = _read(MODELS_FILE)
    return Catalog(
        regions=tuple(normalize_region(r) for r in regions["regions"]),
        models=tuple(ModelEntry(m["name"], m.get("version")) for m in models["models"]),
        sources=(_source(regions), _source(models)),
    )
