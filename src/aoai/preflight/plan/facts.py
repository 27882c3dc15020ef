"""What the checks read from a snapshot's ``plan`` part (pure, light: checks import it).

``planned_deployments`` is None outside a plan (``preflight run``), so plan-only checks can say
so. ``quota_additions`` is the quota a plan adds per usage name: the capacity of each new
deployment, plus each increase; a deployment moved to another model or SKU adds its whole
capacity to the new usage name (apply order is not guaranteed, so nothing freed is counted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aoai.preflight.plan.model import PLAN_PART
from aoai.preflight.snapshot import AccountSnapshot

# (format, model, version, sku) -> the usage name ARM gives (skus[].usageName), None when it gives none
UsageNameFn = Callable[[str, str, str | None, str | None], str | None]


def plan_data(snapshot: AccountSnapshot) -> dict[str, Any] | None:
    part = snapshot.part(PLAN_PART)
    return part.data if part is not None and isinstance(part.data, dict) else None


def planned_deployments(snapshot: AccountSnapshot) -> dict[str, dict[str, Any]] | None:
    """Deployment name -> {action, address, before, after} of a planned change; None outside a plan."""
    data = plan_data(snapshot)
    if data is None:
        return None
    changes = data.get("deployments") or {}
    return {str(name): entry for name, entry in changes.items() if isinstance(entry, dict)}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def added_capacity(entry: dict[str, Any], usage_name: UsageNameFn) -> tuple[str | None, float | None]:
    """(usage name, capacity added) of one planned deployment; (None, None) when unknown until
    apply, (name, 0) when it adds nothing."""
    after = entry.get("after")
    if not isinstance(after, dict):
        return None, 0.0  # deleted
    if not after.get("model") or not after.get("sku"):
        return None, None
    usage = usage_name(
        str(after.get("format") or "OpenAI"), str(after["model"]), after.get("version"), after.get("sku")
    )
    if usage is None:
        return None, None  # ARM names no quota for it: which usage it adds to is unknown
    capacity = _number(after.get("capacity"))
    if capacity is None:
        return usage, None
    before = entry.get("before")
    if isinstance(before, dict) and before.get("model") and before.get("sku"):
        before_usage = usage_name(
            str(before.get("format") or "OpenAI"), str(before["model"]), before.get("version"), before.get("sku")
        )
        if before_usage is not None and before_usage.lower() == usage.lower():
            return usage, max(0.0, capacity - (_number(before.get("capacity")) or 0.0))
    return usage, capacity


def quota_additions(snapshot: AccountSnapshot, usage_name: UsageNameFn) -> tuple[dict[str, float], set[str], bool]:
    """(capacity added per lower-cased usage name, usage names whose addition is unknown until
    apply, whether some addition's usage name itself is unknown)."""
    added: dict[str, float] = {}
    unknown: set[str] = set()
    unnamed = False
    for entry in (planned_deployments(snapshot) or {}).values():
        usage, amount = added_capacity(entry, usage_name)
        if usage is None:
            unnamed = unnamed or amount is None
            continue
        if amount is None:
            unknown.add(usage.lower())
        elif amount > 0:
            added[usage.lower()] = added.get(usage.lower(), 0.0) + amount
    return added, unknown, unnamed
