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
) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY:
            raise ValueError(f"check id {id} registered twice")
        REGISTRY[id] = CheckInfo(
            id, title, area, severity, frozenset(parts), what, why, pass_fail, remediation, references, controls, fn
        )
        return fn

    return register
