"""Snapshot fixtures for the check tests: the two accounts of the emulator's default scenario as
recorded snapshots (tests/fixtures/preflight), plus helpers to vary one fact at a time."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aoai.preflight.checks import all_checks
from aoai.preflight.engine import evaluate_check
from aoai.preflight.policy import Policy, RequiredDeployment
from aoai.preflight.report import Finding, Status
from aoai.preflight.snapshot import AccountSnapshot, Part, PartError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "preflight"

READY_POLICY = Policy(
    deployments=(
        RequiredDeployment("chat", "gpt-4.1", "2025-04-14"),
        RequiredDeployment("reasoner", "gpt-5-mini"),
    )
)
LEGACY_POLICY = Policy(deployments=(RequiredDeployment("gpt-4o", "gpt-4o", "2024-05-13"),))


def load(name: str) -> AccountSnapshot:
    return AccountSnapshot.from_dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def ready() -> AccountSnapshot:
    return load("ready")


def legacy() -> AccountSnapshot:
    return load("legacy")


def changed(snapshot: AccountSnapshot, part: str, mutate: Callable[[Any], Any]) -> AccountSnapshot:
    """A copy with ``mutate(data)`` applied to one part's data (return a value to replace it)."""
    copied = copy.deepcopy(snapshot)
    data = copied.parts[part].data
    result = mutate(data)
    if result is not None:
        copied.parts[part].data = result
    return copied


def account_props(snapshot: AccountSnapshot, **values: Any) -> AccountSnapshot:
    def mutate(data: dict[str, Any]) -> None:
        data.setdefault("properties", {}).update(values)

    return changed(snapshot, "account", mutate)


def deployment(snapshot: AccountSnapshot, name: str, mutate: Callable[[dict[str, Any]], None]) -> AccountSnapshot:
    def apply(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item["name"] == name:
                mutate(item)

    return changed(snapshot, "deployments", apply)


def failed(
    snapshot: AccountSnapshot, part: str, status: int = 403, code: str = "AuthorizationFailed"
) -> AccountSnapshot:
    copied = copy.deepcopy(snapshot)
    old = copied.parts.get(part)
    copied.parts[part] = Part(
        name=part,
        operation=old.operation if old else part,
        api_version=old.api_version if old else None,
        error=PartError(message=f"denied {part}", status=status, code=code, request_id=f"rid-{part}"),
    )
    return copied


def run(check_id: str, snapshot: AccountSnapshot, policy: Policy | None = None) -> list[Finding]:
    return evaluate_check(all_checks()[check_id], snapshot, policy or Policy())


def statuses(findings: list[Finding]) -> list[Status]:
    return [f.status for f in findings]


def by_resource(findings: list[Finding]) -> dict[str | None, Status]:
    return {f.resource: f.status for f in findings}
