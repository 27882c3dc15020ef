"""A planned change as plain data, whatever tool produced it (ARM What-If, Terraform plan JSON).

Every parser turns its document into ``PlannedResource`` items whose ``body`` is shaped like the
ARM resource (camelCase ``properties``, ``sku``, ``identity``…), so the end state and the checks
read one shape. Values the plan does not know yet are not guessed: their ARM paths are listed in
``unknown`` (``*`` = the whole body) and removed from ``body``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
DEPLOYMENT_TYPE = "Microsoft.CognitiveServices/accounts/deployments"
DIAGNOSTIC_TYPE = "Microsoft.Insights/diagnosticSettings"
PRIVATE_ENDPOINT_TYPE = "Microsoft.Network/privateEndpoints"
OPENAI_KINDS = ("OpenAI", "AIServices")
WHOLE_BODY = "*"
PLAN_PART = "plan"  # the snapshot part describing the planned change (see endstate.build)
MODEL_CAPACITIES = "model_capacities"  # the snapshot part of ModelCapacities_List items
NOT_READ = "NotRead"  # PartError code of a part deliberately not read (--offline)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"  # delete and create again (Terraform), whatever the order
    NO_OP = "no-op"
    IGNORE = "ignore"  # What-If: not in the template, or beyond what-if's expansion limits
    UNSUPPORTED = "unsupported"  # What-If could not analyse it

    @property
    def creates(self) -> bool:
        return self in (Action.CREATE, Action.REPLACE)

    @property
    def writes(self) -> bool:
        """The plan sets this resource's body (so the end state takes it from the plan)."""
        return self in (Action.CREATE, Action.REPLACE, Action.UPDATE, Action.NO_OP)


class Kind(StrEnum):
    ACCOUNT = "account"
    DEPLOYMENT = "deployment"
    DIAGNOSTIC_SETTING = "diagnostic_setting"
    PRIVATE_ENDPOINT = "private_endpoint"
    CUSTOMER_MANAGED_KEY = "customer_managed_key"  # azurerm_cognitive_account_customer_managed_key


@dataclass(frozen=True)
class AccountRef:
    """How a resource names its account: the ARM id when the plan knows it, else the plan
    address of the account resource (a Terraform reference to an account created by the plan)."""

    resource_id: str | None = None
    address: str | None = None

    @property
    def key(self) -> str:
        if self.resource_id:
            return self.resource_id.rstrip("/").lower()
        return f"address:{self.address}"

    @property
    def known(self) -> bool:
        return bool(self.resource_id or self.address)


@dataclass
class PlannedResource:
    kind: Kind
    action: Action
    address: str  # the What-If resourceId or the Terraform address
    source_type: str  # "Microsoft.CognitiveServices/accounts/deployments", "azurerm_cognitive_deployment", …
    account: AccountRef  # for an account: itself
    name: str | None = None
    body: dict[str, Any] | None = None  # ARM-shaped body after the change (None: deleted or not given)
    before: dict[str, Any] | None = None  # ARM-shaped body before, when the plan carries it
    unknown: list[str] = field(default_factory=list)  # ARM paths known only after apply
    potential: bool = False  # What-If potentialChanges: not asserted with certainty
    resource_group: str | None = None  # accounts: when the id is not known yet (Terraform create)
    subscription: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "action": self.action.value,
            "address": self.address,
            "type": self.source_type,
            "name": self.name,
            "unknown": sorted(self.unknown),
            "potential": self.potential,
        }


@dataclass
class Plan:
    format: str  # "arm-whatif" | "terraform"
    source: str  # the file as given ("-" for stdin)
    sha256: str
    resources: list[PlannedResource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    format_version: str | None = None
    tool_version: str | None = None
    subscription: str | None = None  # a subscription the plan names (Terraform provider block)

    @property
    def format_label(self) -> str:
        return {"arm-whatif": "ARM What-If", "terraform": "Terraform plan"}.get(self.format, self.format)


def drop_path(body: dict[str, Any], path: str) -> None:
    keys = path.split(".")
    node: Any = body
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(keys[-1], None)


def overlaps(unknown: str, read: str) -> bool:
    """True when a value read at ``read`` depends on the unknown path ``unknown`` (one contains
    the other, or the whole body is unknown)."""
    if unknown == WHOLE_BODY:
        return True
    return unknown == read or unknown.startswith(read + ".") or read.startswith(unknown + ".")


def deep_merge(base: dict[str, Any] | None, over: dict[str, Any] | None) -> dict[str, Any]:
    """``over`` on top of ``base``: objects merge key by key, anything else is replaced, and None
    (unset after the change) removes the key."""
    result: dict[str, Any] = dict(base or {})
    for key, value in (over or {}).items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result
