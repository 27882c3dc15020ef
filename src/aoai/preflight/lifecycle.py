"""When a deployment stops answering: its effective retirement, read from the location's model list.

ARM publishes two dates for a deployed (model version, SKU) in Models_List: the model version's
``deprecation.inference`` and the SKU's ``skus[].deprecationDate``. They differ — Standard
deployments of a version have retired months before GlobalStandard ones of the same version —
and a deployment stops on the earlier of the two. AOAI205, AOAI206, AOAI301 and ``aoai preflight
capacity`` all read retirement through :func:`effective_retirement`, so they cannot disagree.

Partner models carry placeholder dates such as 2099-12-31: a date more than
``PLACEHOLDER_YEARS`` out is not an announcement, and is shown as "no retirement date announced".

Pure: plain JSON in, a value out; "now" is the caller's (the snapshot's time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PLACEHOLDER_YEARS = 50
NO_DATE = "no retirement date announced"


def parse_date(value: Any) -> datetime | None:
    """An ARM timestamp (``2026-05-01T00:00:00Z``) as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_placeholder(moment: datetime, now: datetime) -> bool:
    """A date so far out (2099-12-31) that it stands for "not announced"."""
    return moment - now > timedelta(days=365.25 * PLACEHOLDER_YEARS)


def days_until(moment: datetime, now: datetime) -> int:
    """Whole days from ``now`` to ``moment``, rounded up (399.9 days away is "in 400 days")."""
    return -((now - moment) // timedelta(days=1))


def sku_entry(model: Mapping[str, Any] | None, sku: str | None) -> dict[str, Any] | None:
    """The model's ``skus[]`` entry for ``sku`` (case-insensitive), or None."""
    if model is None or not sku:
        return None
    for entry in model.get("skus") or []:
        if isinstance(entry, dict) and str(entry.get("name") or "").lower() == sku.lower():
            return entry
    return None


@dataclass(frozen=True)
class Retirement:
    """A deployment's effective retirement: ``when`` is the earlier of the model version's
    inference retirement and its SKU's deprecation date (None when neither is announced);
    ``source`` says which ("sku" or "model")."""

    when: datetime | None
    source: str | None  # "sku" | "model" | None
    sku: str | None
    model_date: datetime | None  # deprecation.inference (None when absent or a placeholder)
    sku_date: datetime | None  # skus[].deprecationDate (None when absent or a placeholder)
    placeholders: tuple[str, ...] = ()  # placeholder dates ARM gave, as ISO dates

    @property
    def announced(self) -> bool:
        return self.when is not None

    def retired(self, now: datetime) -> bool:
        return self.when is not None and self.when <= now

    def days_left(self, now: datetime) -> int | None:
        return days_until(self.when, now) if self.when is not None else None

    @property
    def what(self) -> str:
        """What retires: "SKU Standard" or "the model version"."""
        return f"SKU {self.sku}" if self.source == "sku" else "the model version"

    @property
    def date(self) -> str | None:
        return self.when.date().isoformat() if self.when is not None else None

    def describe(self, now: datetime) -> str:
        """"SKU Standard retired on 2026-11-23", "the model version retires on 2027-05-01 (in 150 days)",
        or "no retirement date announced"."""
        if self.when is None:
            return NO_DATE
        if self.retired(now):
            return f"{self.what} retired on {self.date}"
        return f"{self.what} retires on {self.date} (in {self.days_left(now)} days)"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """For a finding's ``observed`` (and so the evidence)."""
        return {
            "effective_retirement": self.date,
            "retires_by": self.source,
            "sku": self.sku,
            "model_inference_retirement": self.model_date.date().isoformat() if self.model_date else None,
            "sku_deprecation": self.sku_date.date().isoformat() if self.sku_date else None,
            "days_left": self.days_left(now),
            "placeholder_dates": list(self.placeholders),
        }


def effective_retirement(model: Mapping[str, Any] | None, sku: str | None, now: datetime) -> Retirement:
    """The effective retirement of a deployment of ``model`` (a Models_List item's ``model``) on ``sku``."""
    placeholders: list[str] = []

    def real(value: Any) -> datetime | None:
        moment = parse_date(value)
        if moment is not None and is_placeholder(moment, now):
            placeholders.append(moment.date().isoformat())
            return None
        return moment

    model_date = real(((model or {}).get("deprecation") or {}).get("inference"))
    entry = sku_entry(model, sku)
    sku_date = real(entry.get("deprecationDate")) if entry is not None else None
    # On a tie the model's own date is named: the SKU then retires with the version, not before it.
    candidates = [(d, source) for d, source in ((model_date, "model"), (sku_date, "sku")) if d is not None]
    when, source = min(candidates, key=lambda c: c[0]) if candidates else (None, None)
    return Retirement(when, source, sku, model_date, sku_date, tuple(placeholders))
