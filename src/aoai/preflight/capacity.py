"""``aoai preflight capacity``: which regions can host model X, version V, on SKU S, at capacity C — today,
with this subscription's quota?

Three ARM facts answer it, and one catalog fact narrows it:

- ModelCapacities_List (subscription level, one call): available capacity per location and SKU for a
  model and version — Microsoft's regional capacity, before quota;
- Usages_List per candidate region (concurrently, only where the model is offered): the subscription's
  quota left, ``limit − currentValue`` of the usage named ``<format>.<SKU>.<model>`` (or the
  ``usageName`` the location's model list gives for that SKU);
- Models_List per candidate region: lifecycle (``Deprecated`` entries are skipped, a retirement
  within ``--retirement-days`` is flagged), the SKU's maximum capacity per deployment;
- the Responses catalog (``aoai.preflight.catalog``): does the region (and the model) offer the
  Responses API — the one fact ARM does not publish.

Layers: :func:`evaluate` is pure (inputs in, sorted rows out; no I/O, no clock, no SDK), and so are
the helpers the fetcher uses to stay minimal (:func:`candidate_regions`, :func:`resolve_version`).
:func:`prepare` resolves options, settings and the policy file (no network); :func:`run` calls the
fetcher (by default :func:`aoai.preflight.arm.fetch_capacity_inputs`, the only code that talks to
ARM) and evaluates. Nothing here imports typer, rich or azure.*.

A region *fits* when its available capacity, its quota left and (when ARM publishes it) the SKU's
maximum per deployment are all at least the requested capacity (1 when ``--capacity`` is omitted).
Rows are sorted fitting first, then by what could be deployed there now (the smallest of those
three numbers), then by available capacity, then by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aoai.errors import ExitCode, NotFoundError, UsageError
from aoai.preflight.catalog import Catalog, normalize_region
from aoai.preflight.lifecycle import NO_DATE, days_until, effective_retirement, sku_entry

if TYPE_CHECKING:
    from aoai.config import ArmSettings
    from aoai.preflight.snapshot import Part
    from aoai.preflight.waits import WaitBudget

DEFAULT_RETIREMENT_DAYS = 90
DEFAULT_FORMAT = "OpenAI"
# Where the default version is looked up when --version is omitted and --regions is not given: the
# regions where Azure OpenAI models ship first (ModelCapacities_List needs an explicit version).
SEED_REGIONS = ("eastus2", "swedencentral", "eastus")
DEPRECATED = "Deprecated"
DOCUMENT_KIND = "aoai-capacity"
DOCUMENT_VERSION = 1

_REGION = re.compile(r"^[a-z][a-z0-9]{1,39}$")


# --------------------------------------------------------------------------------------------
# The question


@dataclass(frozen=True)
class CapacityQuery:
    """What the user asked. ``regions`` empty = every region ARM lists; ``capacity`` None = any (1)."""

    model: str
    version: str | None = None
    sku: str | None = None
    capacity: int | None = None
    regions: tuple[str, ...] = ()
    responses_only: bool = False
    retirement_days: int = DEFAULT_RETIREMENT_DAYS
    model_format: str = DEFAULT_FORMAT

    @property
    def wanted(self) -> int:
        return self.capacity if self.capacity is not None else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "format": self.model_format,
            "sku": self.sku,
            "capacity": self.capacity,
            "regions": list(self.regions) or None,
            "responses_only": self.responses_only,
            "retirement_days": self.retirement_days,
        }


def parse_regions(values: Iterable[str]) -> tuple[str, ...]:
    """``--regions`` values (each may be comma-separated) as ARM location names, in order, once each.

    "Sweden Central" and "SwedenCentral" become ``swedencentral``; anything that cannot be an ARM
    location name (``sweden-central``, ``eu/west``) is a UsageError.
    """
    seen: list[str] = []
    for value in values:
        for raw in value.split(","):
            if not raw.strip():
                continue
            name = normalize_region(raw)
            if not _REGION.match(name):
                raise UsageError(
                    f"--regions: {raw.strip()!r} is not an Azure region name",
                    hint="use ARM location names such as swedencentral,eastus2 (`az account list-locations -o table`)",
                )
            if name not in seen:
                seen.append(name)
    return tuple(seen)


def build_query(
    *,
    model: str,
    version: str | None = None,
    sku: str | None = None,
    capacity: int | None = None,
    regions: Iterable[str] = (),
    responses_only: bool = False,
    retirement_days: int | None = None,
    model_format: str = DEFAULT_FORMAT,
) -> CapacityQuery:
    """Validate the options into a query (UsageError, exit 2, on bad input)."""
    name = model.strip()
    if not name or any(c.isspace() or c in "/?#&" for c in name):
        raise UsageError(f"-m/--model: {model!r} is not a model name", hint="e.g. -m gpt-4.1")
    if version is not None and (not version.strip() or any(c.isspace() or c in "/?#&" for c in version.strip())):
        raise UsageError(f"--version: {version!r} is not a model version", hint="e.g. --version 2025-04-14")
    if sku is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", sku.strip()):
        raise UsageError(f"--sku: {sku!r} is not a SKU name", hint="e.g. --sku GlobalStandard")
    if capacity is not None and capacity < 1:
        raise UsageError(
            f"--capacity must be a positive number of capacity units, not {capacity}",
            hint="units are thousands of tokens per minute (Standard SKUs) or PTUs (provisioned SKUs)",
        )
    days = DEFAULT_RETIREMENT_DAYS if retirement_days is None else retirement_days
    if days < 0:
        raise UsageError("--retirement-days must not be negative")
    return CapacityQuery(
        model=name,
        version=version.strip() if version else None,
        sku=sku.strip() if sku else None,
        capacity=capacity,
        regions=parse_regions(regions),
        responses_only=responses_only,
        retirement_days=days,
        model_format=model_format,
    )


# --------------------------------------------------------------------------------------------
# What ARM said (filled by the fetcher)


@dataclass
class CapacityInputs:
    """The raw ARM data of one scan. ``capacities`` holds ModelCapacities_List's items (every
    location and SKU); ``usages`` and ``location_models`` hold one part per candidate region (the
    raw ``value`` items, or the error that stopped the call)."""

    subscription: str
    version: str
    version_source: str  # "flag" | "default" (resolved from the location model lists)
    capacities: list[dict[str, Any]]
    usages: dict[str, Part] = field(default_factory=dict)
    location_models: dict[str, Part] = field(default_factory=dict)
    capacities_request_ids: list[str] = field(default_factory=list)
    requests: int = 0
    elapsed_ms: float = 0.0
    arm_endpoint: str | None = None


def _lower(value: Any) -> str:
    return str(value or "").lower()


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value)


def capacity_entries(query: CapacityQuery, version: str, capacities: Iterable[Any]) -> list[tuple[str, str, int]]:
    """(region, SKU, available capacity) of the items about this model and version (and SKU, if asked)."""
    found: list[tuple[str, str, int]] = []
    for item in capacities:
        if not isinstance(item, dict):
            continue
        props = item.get("properties") or {}
        model = props.get("model") or {}
        if _lower(model.get("name")) != query.model.lower() or _lower(model.get("version")) != version.lower():
            continue
        if model.get("format") and _lower(model.get("format")) != query.model_format.lower():
            continue
        sku = str(props.get("skuName") or item.get("name") or "")
        if not sku or (query.sku and sku.lower() != query.sku.lower()):
            continue
        location = normalize_region(str(item.get("location") or ""))
        if not location:
            continue
        found.append((location, sku, _int(props.get("availableCapacity")) or 0))
    return found


def responses_api(catalog: Catalog, region: str, model: str, version: str) -> bool:
    """The Responses API serves this model in this region (catalog: region list and model list)."""
    return catalog.supports_region(region) and catalog.supports_model(model, version)


def candidate_regions(query: CapacityQuery, version: str, capacities: Iterable[Any], catalog: Catalog) -> list[str]:
    """The regions whose usages and model lists the scan needs: offered there (ModelCapacities lists
    the model, version and SKU), inside ``--regions`` when given, Responses-capable under
    ``--responses-only``. In ModelCapacities' order, once each."""
    regions: list[str] = []
    for region, _sku, _available in capacity_entries(query, version, capacities):
        if region in regions:
            continue
        if query.regions and region not in query.regions:
            continue
        if query.responses_only and not responses_api(catalog, region, query.model, version):
            continue
        regions.append(region)
    return regions


def resolve_version(query: CapacityQuery, model_lists: Mapping[str, Any]) -> str | None:
    """The version to scan when ``--version`` is omitted, from location model lists (region -> items):
    the version ARM marks ``isDefaultVersion`` in most regions, else the newest that is not
    Deprecated; only versions offering ``--sku`` when given. None when no region lists the model."""
    votes: dict[str, int] = {}
    defaults: dict[str, int] = {}
    for items in model_lists.values():
        for entry in items or []:
            model = (entry or {}).get("model") if isinstance(entry, dict) else None
            if not isinstance(model, dict) or _lower(model.get("name")) != query.model.lower():
                continue
            if model.get("format") and _lower(model.get("format")) != query.model_format.lower():
                continue
            version = model.get("version")
            if not isinstance(version, str) or model.get("lifecycleStatus") == DEPRECATED:
                continue
            skus = {_lower(s.get("name")) for s in model.get("skus") or [] if isinstance(s, dict)}
            if query.sku and skus and query.sku.lower() not in skus:
                continue
            votes[version] = votes.get(version, 0) + 1
            if model.get("isDefaultVersion") is True:
                defaults[version] = defaults.get(version, 0) + 1
    if defaults:
        return max(defaults, key=lambda v: (defaults[v], v))
    if votes:
        return max(votes)  # versions are dates (2025-04-14) or zero-padded numbers (0613): newest sorts last
    return None


# --------------------------------------------------------------------------------------------
# The answer


@dataclass(frozen=True)
class Row:
    """One (region, SKU): what ARM says, whether the requested capacity fits, and why not."""

    region: str
    sku: str | None
    offered: bool
    available: int | None
    usage_name: str | None
    quota_limit: int | None
    quota_used: int | None
    sku_maximum: int | None
    fits: bool
    lifecycle: str | None  # ARM lifecycleStatus; None when the region's model list lacks the model
    retires_on: str | None  # the earliest of the model's inference retirement and the SKU's deprecation
    retiring: bool
    responses_api: bool
    notes: tuple[str, ...] = ()
    retires_in_days: int | None = None
    error: str | None = None  # why quota or lifecycle is unknown
    error_status: int | None = None

    @property
    def quota_left(self) -> int | None:
        if self.quota_limit is None or self.quota_used is None:
            return None
        return self.quota_limit - self.quota_used

    @property
    def max_deployable(self) -> int | None:
        """The largest deployment that fits here now: min(available, quota left, SKU maximum)."""
        if self.available is None or self.quota_left is None:
            return None
        values = [self.available, self.quota_left]
        if self.sku_maximum is not None:
            values.append(self.sku_maximum)
        return max(0, min(values))

    def sort_key(self) -> tuple[int, int, int, int, int, str, str]:
        return (
            0 if self.fits else 1,
            1 if self.retiring else 0,
            0 if self.offered else 1,
            -(self.max_deployable if self.max_deployable is not None else -1),
            -(self.available if self.available is not None else -1),
            self.region,
            self.sku or "",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "sku": self.sku,
            "offered": self.offered,
            "available_capacity": self.available,
            "usage_name": self.usage_name,
            "quota_limit": self.quota_limit,
            "quota_used": self.quota_used,
            "quota_left": self.quota_left,
            "sku_maximum": self.sku_maximum,
            "max_deployable": self.max_deployable,
            "fits": self.fits,
            "lifecycle": self.lifecycle,
            "retires_on": self.retires_on,
            "retires_in_days": self.retires_in_days,
            "retiring": self.retiring,
            "responses_api": self.responses_api,
            "notes": list(self.notes),
            "error": self.error,
        }


@dataclass(frozen=True)
class Skipped:
    region: str
    sku: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "sku": self.sku, "reason": self.reason}


@dataclass
class CapacityResult:
    query: CapacityQuery
    version: str
    version_source: str
    subscription: str
    rows: list[Row]
    skipped: list[Skipped]
    notes: list[str]
    generated_at: str
    requests: int = 0
    elapsed_ms: float = 0.0
    arm_endpoint: str | None = None
    catalog_sources: list[dict[str, str]] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)  # x-ms-request-id of ModelCapacities_List

    @property
    def fitting(self) -> list[Row]:
        return [row for row in self.rows if row.fits]

    @property
    def errors(self) -> list[Row]:
        return [row for row in self.rows if row.error is not None and row.quota_left is None]

    @property
    def exit_code(self) -> ExitCode:
        """0 when a region fits; else 3 or 4 when a region could not be judged (its quota call was
        refused / failed), since it might have fitted; else 1."""
        if self.fitting:
            return ExitCode.OK
        unknown = [row for row in self.errors if row.available is not None and row.available >= self.query.wanted]
        if unknown:
            if all(row.error_status in (401, 403) for row in unknown):
                return ExitCode.AUTH
            return ExitCode.INCOMPLETE
        return ExitCode.NOT_READY

    def summary(self) -> str:
        wanted = f"capacity {self.query.capacity}" if self.query.capacity is not None else "any capacity"
        sku = self.query.sku or "any SKU"
        offered = [row for row in self.rows if row.offered]
        unit = "region" if len({row.region for row in offered}) == len(offered) else "region/SKU pair"
        verb = "fits" if len(offered) == 1 else "fit"
        if len(offered) != 1:
            unit += "s"
        return (
            f"{len(self.fitting)} of {len(offered)} {unit} {verb} {self.query.model} {self.version} ({sku}, {wanted})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": DOCUMENT_KIND,
            "version": DOCUMENT_VERSION,
            "generated_at": self.generated_at,
            "subscription": self.subscription,
            "query": self.query.to_dict(),
            "model": {
                "format": self.query.model_format,
                "name": self.query.model,
                "version": self.version,
                "version_source": self.version_source,
            },
            "fits": len(self.fitting),
            "exit_code": int(self.exit_code),
            "summary": self.summary(),
            "rows": [row.to_dict() for row in self.rows],
            "skipped": [s.to_dict() for s in self.skipped],
            "notes": list(self.notes),
            "arm": {
                "endpoint": self.arm_endpoint,
                "requests": self.requests,
                "elapsed_ms": self.elapsed_ms,
                "model_capacities_request_ids": list(self.request_ids),
            },
            "catalog": self.catalog_sources,
        }


def _model_entry(items: Any, query: CapacityQuery, version: str, sku: str) -> dict[str, Any] | None:
    """The region's model-list entry for this model and version, preferring one that lists ``sku``."""
    matches: list[dict[str, Any]] = []
    for entry in items or []:
        model = entry.get("model") if isinstance(entry, dict) else None
        if not isinstance(model, dict):
            continue
        if _lower(model.get("name")) != query.model.lower() or _lower(model.get("version")) != version.lower():
            continue
        if model.get("format") and _lower(model.get("format")) != query.model_format.lower():
            continue
        matches.append(model)
    for model in matches:
        if any(isinstance(s, dict) and _lower(s.get("name")) == sku.lower() for s in model.get("skus") or []):
            return model
    return matches[0] if matches else None


def _usage_names(items: Any) -> list[str]:
    names = []
    for item in items or []:
        if isinstance(item, dict):
            name = (item.get("name") or {}).get("value") if isinstance(item.get("name"), dict) else item.get("name")
            if isinstance(name, str) and name:
                names.append(name)
    return names


def _related_usages(items: Any, model: str, sku: str) -> list[str]:
    """Usage names ARM returned that mention the model or the SKU (for matching by hand)."""
    return sorted(n for n in _usage_names(items) if model.lower() in n.lower() or sku.lower() in n.lower())[:8]


def _usage(items: Any, name: str) -> tuple[int, int] | None:
    """(limit, current) of the usage called ``name`` (case-insensitive), or None."""
    for item in items or []:
        if not isinstance(item, dict):
            continue
        usage_name = (item.get("name") or {}).get("value") if isinstance(item.get("name"), dict) else item.get("name")
        if _lower(usage_name) == name.lower():
            limit, current = _int(item.get("limit")), _int(item.get("currentValue"))
            if limit is not None:
                return limit, current or 0
    return None


def _row(
    query: CapacityQuery,
    version: str,
    region: str,
    sku: str,
    available: int,
    inputs: CapacityInputs,
    catalog: Catalog,
    now: datetime,
) -> Row | Skipped:
    notes: list[str] = []
    error: str | None = None
    error_status: int | None = None
    models_part = inputs.location_models.get(region)
    model: dict[str, Any] | None = None
    if models_part is None:
        notes.append("lifecycle unknown: the region's model list was not read")
    elif models_part.error is not None:
        notes.append(f"lifecycle unknown: Models_List failed ({models_part.error.describe()})")
    else:
        model = _model_entry(models_part.data, query, version, sku)
        if model is None:
            notes.append("not in the region's model list (lifecycle unknown)")
    lifecycle = str(model.get("lifecycleStatus")) if model and model.get("lifecycleStatus") else None
    sku_info = sku_entry(model, sku)
    retirement = effective_retirement(model, sku, now)
    if lifecycle == DEPRECATED:
        return Skipped(region, sku, f"{query.model} {version} is Deprecated in {region}")
    if retirement.retired(now):
        what = f"SKU {sku}" if retirement.source == "sku" else "model"
        return Skipped(region, sku, f"{what} retired on {retirement.date} in {region}")
    retires = retirement.when
    retiring = retires is not None and days_until(retires, now) <= query.retirement_days
    if retiring:
        assert retires is not None
        notes.append(f"retires {retires.date().isoformat()} (in {days_until(retires, now)} days)")
    elif retirement.placeholders and retires is None:
        notes.append(NO_DATE)
    if lifecycle and lifecycle not in ("GenerallyAvailable", "Stable"):
        notes.append(f"lifecycle {lifecycle}")
    sku_maximum = _int(((sku_info or {}).get("capacity") or {}).get("maximum"))
    sku_minimum = _int(((sku_info or {}).get("capacity") or {}).get("minimum"))
    # The quota's usage name is ARM's (skus[].usageName), never built from a pattern: provisioned SKUs
    # share a pool (OpenAI.ProvisionedManaged), partner models use AIServices.*.
    listed_name = (sku_info or {}).get("usageName")
    usage_name = str(listed_name) if isinstance(listed_name, str) and listed_name.strip() else None
    usage_part = inputs.usages.get(region)
    limit = used = None
    if usage_part is None:
        error = "quota unknown: the region's usages were not read"
    elif usage_part.error is not None:
        error = f"quota unknown: Usages_List failed ({usage_part.error.describe()})"
        error_status = usage_part.error.status
    elif usage_name is None:
        related = _related_usages(usage_part.data, query.model, sku)
        error = (
            f"quota could not be matched: ARM gives no usage name for {sku} here (the region's model list names it)"
            + (f" (related usages: {', '.join(related)})" if related else "")
        )
    else:
        found = _usage(usage_part.data, usage_name)
        if found is None:
            notes.append(f"no quota: the subscription has no {usage_name} usage here")
            limit, used = 0, 0
        else:
            limit, used = found
    wanted = query.wanted
    quota_left = limit - used if limit is not None and used is not None else None
    reasons: list[str] = []
    if available <= 0:
        reasons.append("no capacity")
    elif available < wanted:
        reasons.append(f"capacity short ({available} available)")
    if quota_left is not None and quota_left < wanted and limit:
        reasons.append(f"quota short ({quota_left} left)")
    if sku_maximum is not None and wanted > sku_maximum:
        reasons.append(f"over the SKU maximum ({sku_maximum} per deployment)")
    if sku_minimum is not None and query.capacity is not None and wanted < sku_minimum:
        reasons.append(f"under the SKU minimum ({sku_minimum} per deployment)")
    notes[:0] = reasons
    fits = (
        available >= wanted
        and quota_left is not None
        and quota_left >= wanted
        and (sku_maximum is None or wanted <= sku_maximum)
        and (sku_minimum is None or query.capacity is None or wanted >= sku_minimum)
    )
    return Row(
        region=region,
        sku=sku,
        offered=True,
        available=available,
        usage_name=usage_name,
        quota_limit=limit,
        quota_used=used,
        sku_maximum=sku_maximum,
        fits=fits,
        lifecycle=lifecycle,
        retires_on=retires.date().isoformat() if retires else None,
        retiring=retiring,
        responses_api=responses_api(catalog, region, query.model, version),
        notes=tuple(notes),
        retires_in_days=days_until(retires, now) if retires else None,
        error=error,
        error_status=error_status,
    )


def evaluate(query: CapacityQuery, inputs: CapacityInputs, catalog: Catalog, now: datetime) -> CapacityResult:
    """Rows sorted by fit from what ARM said. Pure.

    Raises NotFoundError (exit 5) when ModelCapacities lists the model and version (on the SKU,
    when given) in no region at all: nothing to rank, and more likely a typo than a full cloud.
    """
    version = inputs.version
    entries = capacity_entries(query, version, inputs.capacities)
    label = f"{query.model} {version}" + (f" on SKU {query.sku}" if query.sku else "")
    if not entries:
        other_skus = sorted(
            {
                sku
                for _r, sku, _a in capacity_entries(
                    CapacityQuery(query.model, version, None, model_format=query.model_format),
                    version,
                    inputs.capacities,
                )
            }
        )
        hint = (
            f"it is offered on {', '.join(other_skus)}; check --sku"
            if other_skus
            else "check -m/--version (`az cognitiveservices model list -l REGION` lists a region's models)"
        )
        raise NotFoundError(f"{label} is not offered in any region (ModelCapacities_List listed none)", hint=hint)
    rows: list[Row] = []
    skipped: list[Skipped] = []
    notes: list[str] = []
    if query.responses_only and not catalog.supports_model(query.model, version):
        notes.append(f"{query.model} {version} is not in the Responses API model catalog")
    listed: set[str] = set()
    for region, sku, available in entries:
        listed.add(region)
        if query.regions and region not in query.regions:
            continue
        if query.responses_only and not responses_api(catalog, region, query.model, version):
            skipped.append(Skipped(region, sku, "no Responses API in this region (catalog)"))
            continue
        result = _row(query, version, region, sku, available, inputs, catalog, now)
        if isinstance(result, Skipped):
            skipped.append(result)
        else:
            rows.append(result)
    for region in query.regions:
        if region in listed:
            continue
        if query.responses_only and not responses_api(catalog, region, query.model, version):
            skipped.append(Skipped(region, query.sku, "no Responses API in this region (catalog)"))
            continue
        rows.append(
            Row(
                region=region,
                sku=query.sku,
                offered=False,
                available=None,
                usage_name=None,
                quota_limit=None,
                quota_used=None,
                sku_maximum=None,
                fits=False,
                lifecycle=None,
                retires_on=None,
                retiring=False,
                responses_api=responses_api(catalog, region, query.model, version),
                notes=(f"{label} is not offered here",),
            )
        )
    rows.sort(key=Row.sort_key)
    if inputs.version_source == "default":
        notes.append(f"--version not given: scanned {version}, the default version ARM lists")
    return CapacityResult(
        query=query,
        version=version,
        version_source=inputs.version_source,
        subscription=inputs.subscription,
        rows=rows,
        skipped=skipped,
        notes=notes,
        generated_at=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        requests=inputs.requests,
        elapsed_ms=inputs.elapsed_ms,
        arm_endpoint=inputs.arm_endpoint,
        catalog_sources=[s.to_dict() for s in catalog.sources],
        request_ids=list(inputs.capacities_request_ids),
    )


# --------------------------------------------------------------------------------------------
# Options -> settings -> fetch -> evaluate (no I/O here beyond what config and policy read)


@dataclass(frozen=True)
class CapacityOptions:
    """Everything ``aoai preflight capacity`` was given (raw, unvalidated)."""

    model: str
    version: str | None = None
    sku: str | None = None
    capacity: int | None = None
    regions: tuple[str, ...] = ()
    responses_only: bool = False
    retirement_days: int | None = None
    subscription: str | None = None
    arm_endpoint: str | None = None
    cloud: str | None = None
    credential: str | None = None
    ca_bundle: str | None = None
    config: str | None = None


@dataclass(frozen=True)
class PreparedCapacity:
    query: CapacityQuery
    settings: ArmSettings
    subscription: str
    catalog: Catalog


Fetcher = Callable[["ArmSettings", Mapping[str, str], CapacityQuery, Catalog, str], CapacityInputs]


def prepare(options: CapacityOptions, env: Mapping[str, str], cwd: Path) -> PreparedCapacity:
    """Validate options and resolve settings (no network). The policy file (``--config``, else
    ./aoai.toml when present) supplies the catalog overrides, ``retirement_days`` and a default
    subscription, as for ``aoai preflight run``."""
    from aoai.preflight import connection_settings
    from aoai.preflight.policy import find_policy_file, load_policy_file
    from aoai.preflight.snapshot import Target

    policy = load_policy_file(find_policy_file(options.config, cwd, env)).policy
    query = build_query(
        model=options.model,
        version=options.version,
        sku=options.sku,
        capacity=options.capacity,
        regions=options.regions,
        responses_only=options.responses_only,
        retirement_days=options.retirement_days if options.retirement_days is not None else policy.retirement_days,
    )
    settings = connection_settings(options, env)
    spec = policy.target
    subscription = (
        options.subscription
        or spec.subscription
        or (Target.parse(spec.resource_id).subscription_id if spec.resource_id else None)
        or settings.subscription
    )
    if not subscription:
        raise UsageError(
            "no subscription given",
            hint="pass --subscription or set AZURE_SUBSCRIPTION_ID (quota is per subscription)",
        )
    return PreparedCapacity(query=query, settings=settings, subscription=subscription, catalog=policy.catalog)


def run(
    prepared: PreparedCapacity,
    env: Mapping[str, str],
    *,
    fetch: Fetcher | None = None,
    now: datetime | None = None,
    budget: WaitBudget | None = None,
) -> CapacityResult:
    """Fetch (ARM, by default) and evaluate."""
    if fetch is None:
        from aoai.preflight.arm import fetch_capacity_inputs

        def fetch(
            settings: ArmSettings, env: Mapping[str, str], query: CapacityQuery, catalog: Catalog, subscription: str
        ) -> CapacityInputs:
            inputs: CapacityInputs = fetch_capacity_inputs(
                settings, env, query, catalog, subscription=subscription, budget=budget
            )
            return inputs

    inputs = fetch(prepared.settings, env, prepared.query, prepared.catalog, prepared.subscription)
    return evaluate(prepared.query, inputs, prepared.catalog, now or datetime.now(UTC))
