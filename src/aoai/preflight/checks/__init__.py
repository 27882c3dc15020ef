"""The check registry: every check goes through ``@check(...)`` into ``REGISTRY``.

Each check is a pure function ``fn(snapshot, policy) -> list[Finding]`` with its metadata in
the decorator; ``aoai preflight checks``/``explain`` and docs/checks.md render from this data.
Area modules are imported explicitly by ``all_checks()`` (no filesystem discovery).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aoai.preflight.report import Area, Finding, Severity

CheckFn = Callable[[Any, Any], list[Finding]]

# The revision of the checks' logic, recorded in evidence. Bump it when a check can reach another
# status on the same snapshot, so `aoai preflight verify` knows an older document was decided under
# older rules. 2: category groups read from ARM, effective (SKU) retirement, unlisted versions fail.
CHECK_RULES = 2


@dataclass(frozen=True)
class Control:
    """An equivalent control in another tool (Azure Policy definition, PSRule for Azure rule)."""

    kind: str  # "azure-policy" | "psrule"
    id: str  # policy definition GUID or PSRule rule name
    name: str | None = None


@dataclass(frozen=True)
class CheckInfo:
    id: str
    title: str  # the desired state: "Public network access is disabled"
    area: Area
    severity: Severity
    parts: frozenset[str]  # snapshot parts the check needs
    what: str  # What it checks
    why: str  # Why it matters
    pass_fail: str  # Pass / warn / fail criteria
    remediation: str  # az command or portal step
    references: tuple[str, ...]
    controls: tuple[Control, ...]
    fn: CheckFn
    # Parts read when available but not required: the check copes (and says so) when they failed.
    uses: frozenset[str] = frozenset()


REGISTRY: dict[str, CheckInfo] = {}


def check(
    id: str,
    *,
    title: str,
    area: Area,
    severity: Severity,
    parts: tuple[str, ...],
    what: str,
    why: str,
    pass_fail: str,
    remediation: str,
    references: tuple[str, ...] = (),
    controls: tuple[Control, ...] = (),
    uses: tuple[str, ...] = (),
) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY:
            raise ValueError(f"check id {id} registered twice")
        REGISTRY[id] = CheckInfo(
            id,
            title,
            area,
            severity,
            frozenset(parts),
            what,
            why,
            pass_fail,
            remediation,
            references,
            controls,
            fn,
            frozenset(uses),
        )
        return fn

    return register


# --------------------------------------------------------------------------------------------
# Built-in checks and selectors (--only / --skip)

_loaded = False


def all_checks() -> dict[str, CheckInfo]:
    """The registry with every built-in check loaded, in id order."""
    global _loaded
    if not _loaded:
        # Explicit imports, one per area (no filesystem discovery): each registers its checks.
        from aoai.preflight.checks import (  # noqa: F401
            account,
            content_filters,
            deployments,
            diagnostics,
            identity,
            network,
            probe,
            region,
            skus,
        )

        _loaded = True
    return dict(sorted(REGISTRY.items()))


def resolve_selector(selector: str) -> set[str]:
    """Check ids a selector names: an id (``AOAI401``), an id prefix (``AOAI4``, ``aoai40``) or an
    area (``network``). Empty set when it names nothing."""
    checks = all_checks()
    text = selector.strip()
    areas = {area.value: area for area in Area}
    if text.lower() in areas:
        return {cid for cid, info in checks.items() if info.area is areas[text.lower()]}
    upper = text.upper()
    if upper.startswith("AOAI") and len(upper) > 4:
        return {cid for cid in checks if cid.startswith(upper)}
    return set()


def validate_selectors(selectors: Any, *, option: str = "selector") -> None:
    """Raise UsageError (exit 2) for a selector that names no check — never a silent no-op."""
    from aoai.errors import UsageError

    for selector in selectors:
        if not resolve_selector(selector):
            raise UsageError(
                f"{option} {selector!r} names no check",
                hint="use a check id (AOAI401), an id prefix (AOAI4) or an area "
                f"({', '.join(a.value for a in Area)}); `aoai preflight checks` lists them",
            )


def select(only: Any = (), skip: Any = (), universe: set[str] | None = None) -> set[str]:
    """The ids to run: ``universe`` (default: all) narrowed by ``only``, minus ``skip``."""
    validate_selectors(only, option="--only")
    validate_selectors(skip, option="--skip")
    chosen = set(all_checks()) if universe is None else set(universe)
    if only:
        wanted: set[str] = set()
        for selector in only:
            wanted |= resolve_selector(selector)
        chosen &= wanted
    for selector in skip:
        chosen -= resolve_selector(selector)
    return chosen
