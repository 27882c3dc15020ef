"""Helpers the area modules share: building findings, reading snapshot parts, matching models.

Pure functions over plain JSON (what ARM said); no I/O. A check that needs a part that failed
raises ``PartUnavailable``; the engine turns it into an ``error`` finding with the reason and
request id, so a check can never pass on data it did not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aoai.preflight.checks import REGISTRY
from aoai.preflight.report import Finding, Status
from aoai.preflight.snapshot import AccountSnapshot, Part, PartError

LEARN = "https://learn.microsoft.com/en-us/azure"


class PartUnavailable(Exception):
    """A part a check needs was not collected, or ARM refused it."""

    def __init__(self, part: str, error: PartError | None, source: Part | None = None) -> None:
        reason = error.describe() if error else "not collected"
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.error = error
        self.source = source


def need(snapshot: AccountSnapshot, name: str) -> Part:
    part = snapshot.part(name)
    if part is None or not part.ok:
        raise PartUnavailable(name, part.error if part else None, part)
    return part


def account(snapshot: AccountSnapshot) -> dict[str, Any]:
    data = need(snapshot, "account").data
    return data if isinstance(data, dict) else {}


def props(resource: dict[str, Any] | None) -> dict[str, Any]:
    value = (resource or {}).get("properties")
    return value if isinstance(value, dict) else {}


def items(snapshot: AccountSnapshot, name: str) -> list[dict[str, Any]]:
    data = need(snapshot, name).data
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


def deployments(snapshot: AccountSnapshot) -> list[dict[str, Any]]:
    return sorted(items(snapshot, "deployments"), key=lambda d: str(d.get("name", "")))


def deployment_model(deployment: dict[str, Any]) -> tuple[str, str, str | None]:
    """(format, name, version) of a deployment's model."""
    model = props(deployment).get("model") or {}
    return (str(model.get("format") or "OpenAI"), str(model.get("name") or ""), model.get("version"))


def deployment_sku(deployment: dict[str, Any]) -> tuple[str | None, int | None]:
    sku = deployment.get("sku") or {}
    capacity = sku.get("capacity")
    return sku.get("name"), int(capacity) if isinstance(capacity, int | float) else None


def model_label(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


def find_location_model(
    models: Iterable[dict[str, Any]], name: str, version: str | None, fmt: str = "OpenAI"
) -> dict[str, Any] | None:
    """The location-model entry (``Models_List`` item's ``model``) for name/version/format."""
    for entry in models:
        model = entry.get("model") or {}
        if str(model.get("name", "")).lower() != name.lower():
            continue
        if version is not None and model.get("version") != version:
            continue
        if model.get("format") and str(model["format"]).lower() != fmt.lower():
            continue
        return dict(model)
    return None


def not_offered(models: Iterable[dict[str, Any]], location: str, name: str, version: str | None, fmt: str) -> str:
    """Why a deployed version missing from the location's models is a problem, with what is offered:
    "gpt-4o 2024-05-13 is not offered in westeurope (retired, or never available there; offered
    versions: 2024-11-20)". A retired version disappears from Models_List, so absence never passes."""
    offered = sorted(
        {
            str(model.get("version"))
            for entry in models
            if isinstance(model := entry.get("model"), dict)
            and str(model.get("name", "")).lower() == name.lower()
            and (not model.get("format") or str(model["format"]).lower() == fmt.lower())
            and model.get("version")
        }
    )
    listing = f"offered versions: {', '.join(offered)}" if offered else f"no version of {name} is offered there"
    return f"{model_label(name, version)} is not offered in {location} (retired, or never available there; {listing})"


def remediation_for(check_id: str, snapshot: AccountSnapshot, resource: str | None = None) -> str:
    """The check's remediation with the target's names filled in for ``<account>`` etc."""
    text = REGISTRY[check_id].remediation
    target = snapshot.target
    return (
        text.replace("<account>", target.account)
        .replace("<rg>", target.resource_group)
        .replace("<subscription>", target.subscription_id)
        .replace("<resource-id>", target.resource_id)
        .replace("<deployment>", resource or "<deployment>")
    )


def finding(
    check_id: str,
    snapshot: AccountSnapshot,
    status: Status,
    message: str,
    *,
    part: str | None = None,
    resource: str | None = None,
    observed: Any = None,
    expected: Any = None,
) -> Finding:
    info = REGISTRY[check_id]
    source_part = snapshot.part(part) if part else None
    return Finding(
        check=check_id,
        status=status,
        severity=info.severity,
        target=snapshot.resource_id,
        message=message,
        resource=resource,
        observed=observed,
        expected=expected,
        remediation=remediation_for(check_id, snapshot, resource) if status in (Status.FAIL, Status.WARN) else None,
        source=source_part.source if source_part else None,
    )


def no_deployments(check_id: str, snapshot: AccountSnapshot) -> list[Finding]:
    """The one skip finding of a per-deployment check when the account has no deployments."""
    return [finding(check_id, snapshot, Status.SKIP, f"Account {snapshot.target.account} has no deployments")]


def account_label(snapshot: AccountSnapshot) -> str:
    location = snapshot.location
    return f"Account {snapshot.target.account}" + (f" in {location}" if location else "")
