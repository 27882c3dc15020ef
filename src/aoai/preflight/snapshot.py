"""AccountSnapshot: what ARM said about one account, part by part, as plain data.

Each part (the account, its deployments, the location's models, …) keeps the raw JSON ARM
returned, the operation, api-version and ``x-ms-request-id`` it came from — or the error that
stopped it. Checks read only this; the evidence embeds it (redacted), so ``aoai preflight
verify`` can re-evaluate every verdict offline. No I/O here and no Azure SDK types: a snapshot
round-trips through JSON unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aoai.errors import UsageError
from aoai.preflight.report import Source


class PartName(StrEnum):
    """The snapshot parts a check can declare it needs."""

    ACCOUNT = "account"
    DEPLOYMENTS = "deployments"
    LOCATION_MODELS = "location_models"
    USAGES = "usages"
    PRIVATE_ENDPOINT_CONNECTIONS = "private_endpoint_connections"
    DIAGNOSTIC_SETTINGS = "diagnostic_settings"
    DIAGNOSTIC_CATEGORIES = "diagnostic_categories"  # the account type's log categories and their groups
    RAI_POLICIES = "rai_policies"  # the account's content filter (RAI) policies, built-ins included
    PROBE = "probe"  # not ARM: the live data-plane calls of --probe


# Parts whose scope is the account's location (subscription-level data): they need the account first.
LOCATION_PARTS = frozenset({PartName.LOCATION_MODELS, PartName.USAGES})

_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.CognitiveServices/accounts/(?P<name>[^/]+)(?:/projects/(?P<project>[^/]+))?/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Target:
    """One Azure OpenAI / AI Services account, by ARM coordinates."""

    subscription_id: str
    resource_group: str
    account: str

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{self.account}"
        )

    @classmethod
    def parse(cls, resource_id: str) -> Target:
        """The account of an account resource id — or of a Foundry project's (``…/accounts/A/projects/P``
        is checked as account A, which the project belongs to)."""
        return cls.parse_with_project(resource_id)[0]

    @classmethod
    def parse_with_project(cls, resource_id: str) -> tuple[Target, str | None]:
        """(the account, the Foundry project named after it or None)."""
        match = _RESOURCE_ID.match(resource_id.strip())
        if not match:
            raise UsageError(
                f"not an account resource id: {resource_id!r}",
                hint="expected /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.CognitiveServices"
                "/accounts/NAME (or a Foundry project's …/accounts/NAME/projects/PROJECT)",
            )
        return cls(match["sub"], match["rg"], match["name"]), match["project"]

    def to_dict(self) -> dict[str, str]:
        return {
            "resource_id": self.resource_id,
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "account": self.account,
        }


@dataclass(frozen=True)
class PartError:
    """Why a part could not be read: HTTP status, ARM error code, message, request id."""

    message: str
    status: int | None = None
    code: str | None = None
    request_id: str | None = None

    def describe(self) -> str:
        head = " ".join(str(x) for x in (self.status, self.code) if x)
        text = f"{head}: {self.message}" if head else self.message
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "status": self.status, "code": self.code, "request_id": self.request_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartError:
        return cls(data["message"], data.get("status"), data.get("code"), data.get("request_id"))


@dataclass
class Part:
    """One piece of ARM data. ``data`` is the raw JSON: an object for a GET, a list for a list
    operation (all pages' ``value`` items), or None when ``error`` is set."""

    name: str
    operation: str  # the ARM operation id, e.g. "Deployments_List"
    api_version: str | None = None
    request_ids: list[str] = field(default_factory=list)  # one per page / call
    data: Any = None
    error: PartError | None = None
    scope: str | None = None  # what the call was about (account id, location, deployment names)
    elapsed_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def source(self) -> Source:
        request_id = self.request_ids[0] if self.request_ids else (self.error.request_id if self.error else None)
        return Source(self.operation, self.api_version, request_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "operation": self.operation,
            "api_version": self.api_version,
            "request_ids": list(self.request_ids),
            "scope": self.scope,
            "elapsed_ms": self.elapsed_ms,
            "data": self.data,
            "error": self.error.to_dict() if self.error else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        return cls(
            name=data["name"],
            operation=data["operation"],
            api_version=data.get("api_version"),
            request_ids=list(data.get("request_ids") or []),
            data=data.get("data"),
            error=PartError.from_dict(data["error"]) if data.get("error") else None,
            scope=data.get("scope"),
            elapsed_ms=data.get("elapsed_ms"),
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class AccountSnapshot:
    """Everything ARM said about one account at ``taken_at``. Checks evaluate "now" as
    ``taken_at``, so re-evaluating a stored snapshot later gives the same verdicts."""

    target: Target
    taken_at: str  # ISO 8601 UTC
    arm_endpoint: str
    parts: dict[str, Part] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        return self.target.resource_id

    @property
    def now(self) -> datetime:
        return parse_time(self.taken_at)

    def part(self, name: str) -> Part | None:
        return self.parts.get(name)

    @property
    def account(self) -> dict[str, Any] | None:
        part = self.parts.get(PartName.ACCOUNT)
        if part is None or not part.ok or not isinstance(part.data, dict):
            return None
        return part.data

    @property
    def location(self) -> str | None:
        account = self.account
        location = account.get("location") if account else None
        return str(location) if location else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.to_dict(),
            "taken_at": self.taken_at,
            "arm_endpoint": self.arm_endpoint,
            "parts": {name: part.to_dict() for name, part in sorted(self.parts.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountSnapshot:
        target = data["target"]
        return cls(
            target=Target(target["subscription_id"], target["resource_group"], target["account"]),
            taken_at=data["taken_at"],
            arm_endpoint=data["arm_endpoint"],
            parts={name: Part.from_dict(part) for name, part in data["parts"].items()},
        )


def redact_data(value: Any) -> Any:
    """A copy of JSON-like data with every string passed through ``auth.redact``."""
    from aoai.auth import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    return value


def redacted(snapshot: AccountSnapshot) -> AccountSnapshot:
    return AccountSnapshot.from_dict(redact_data(snapshot.to_dict()))
