"""``aoai preflight plan``: prepare (no network) and execute (live reads, end states, checks).

``prepare_plan`` reads and parses the plan, resolves the policy and selection, and ties the plan's
resources to accounts — every problem (bad file, no relevant resource, no subscription to read
region data in) is raised here, before anything is sent. ``execute_plan`` reads through
``aoai.preflight.arm`` only what the end states need, all at once:

- per account that exists (not created by the plan): the parts ``preflight run`` reads, with the
  location parts started at once when the plan names the location;
- per planned location: location models and usages (once per subscription and location);
- per planned model version: ModelCapacities_List (when AOAI304 is selected).

So a plan costs at most the two round trips of ``preflight run`` (one when every account's
location is in the plan). ``--offline`` reads nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from aoai.errors import UsageError
from aoai.preflight import connection_settings
from aoai.preflight.engine import RunOutcome, Selection, build_report, parts_for
from aoai.preflight.plan.endstate import PlannedAccount, build, group, not_read
from aoai.preflight.plan.load import load
from aoai.preflight.plan.model import MODEL_CAPACITIES, Action, Kind, Plan
from aoai.preflight.policy import Policy, PolicyFlags, load_policy
from aoai.preflight.snapshot import LOCATION_PARTS, AccountSnapshot, Part, PartName, format_time, utc_now

if TYPE_CHECKING:
    from aoai.config import ArmSettings
    from aoai.preflight.arm import ArmReader

OFFLINE_ENDPOINT = "none (--offline)"


@dataclass(frozen=True)
class PlanOptions:
    plan_file: str
    plan_format: str = "auto"
    offline: bool = False
    subscription: str | None = None
    arm_endpoint: str | None = None
    cloud: str | None = None
    credential: str | None = None
    ca_bundle: str | None = None
    config: str | None = None
    flags: PolicyFlags | None = None


@dataclass(frozen=True)
class PlanPrepared:
    plan: Plan
    accounts: list[PlannedAccount]
    policy: Policy
    selection: Selection
    settings: ArmSettings
    offline: bool


def prepare_plan(
    options: PlanOptions, env: Mapping[str, str], cwd: Path, stdin: BinaryIO | None = None
) -> PlanPrepared:
    policy = load_policy(options.config, options.flags, cwd, env)
    selection = Selection.build(policy)
    settings = connection_settings(options, env)
    plan = load(options.plan_file, options.plan_format, stdin)
    subscription = options.subscription or policy.target.subscription or settings.subscription
    accounts = group(plan, subscription)
    if not options.offline:
        for planned in accounts:
            if planned.target.subscription_id == "unknown":
                raise UsageError(
                    f"{plan.source}: the plan does not say which subscription account {planned.target.account} is in",
                    hint="pass --subscription (or set AZURE_SUBSCRIPTION_ID), or --offline for a plan-only check",
                )
    return PlanPrepared(plan, accounts, policy, selection, settings, options.offline)


def _capacity_queries(planned: PlannedAccount) -> set[tuple[str, str, str]]:
    """(format, model, version) of the deployments the plan writes with a known model version."""
    found = set()
    for resource in planned.of(Kind.DEPLOYMENT):
        if not (resource.action.writes and resource.action is not Action.NO_OP) or resource.body is None:
            continue
        model = (resource.body.get("properties") or {}).get("model") or {}
        if model.get("name") and model.get("version"):
            found.add((str(model.get("format") or "OpenAI"), str(model["name"]), str(model["version"])))
    return found


def _capacities_part(queries: list[Part], location: str | None) -> Part:
    """One ``model_capacities`` part from several ModelCapacities_List calls (items for ``location``)."""
    failed = next((p for p in queries if not p.ok), None)
    part = Part(
        name=MODEL_CAPACITIES,
        operation="ModelCapacities_List",
        api_version=next((p.api_version for p in queries), None),
        request_ids=[rid for p in queries for rid in p.request_ids],
        scope=queries[0].scope if queries else None,
    )
    if failed is not None:
        part.error = failed.error
        return part
    wanted = (location or "").lower()
    part.data = [
        item
        for p in queries
        for item in p.data or []
        if isinstance(item, dict) and str(item.get("location", "")).replace(" ", "").lower() == wanted
    ]
    return part


def _gather(
    prepared: PlanPrepared, reader: ArmReader
) -> list[tuple[PlannedAccount, AccountSnapshot | None, dict[str, Part]]]:
    parts = parts_for(prepared.selection)
    want_capacities = "AOAI304" in prepared.selection.selected
    cap_futures: dict[tuple[str, str, str, str], Future[Part]] = {}
    loc_futures: dict[int, dict[str, Future[Part]]] = {}
    live_futures: dict[int, Future[AccountSnapshot]] = {}
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="aoai-plan") as accounts_pool:
        for index, planned in enumerate(prepared.accounts):
            subscription = planned.target.subscription_id
            if want_capacities:
                for fmt, model, version in sorted(_capacity_queries(planned)):
                    key = (subscription.lower(), fmt, model.lower(), version)
                    if key not in cap_futures:
                        cap_futures[key] = reader.model_capacities_future(subscription, fmt, model, version)
            if planned.created:
                if planned.location:
                    loc_futures[index] = {
                        str(name): reader.location_future(str(name), subscription, planned.location)
                        for name in sorted(LOCATION_PARTS & {PartName(p) for p in parts if p != PartName.PROBE})
                    }
                continue
            live_futures[index] = accounts_pool.submit(
                reader.snapshot, planned.target, parts, location=planned.location
            )
        gathered = []
        for index, planned in enumerate(prepared.accounts):
            live = live_futures[index].result() if index in live_futures else None
            region: dict[str, Part] = {}
            if live is not None:
                region = {str(name): live.parts[str(name)] for name in LOCATION_PARTS if str(name) in live.parts}
            for name, future in loc_futures.get(index, {}).items():
                region[name] = future.result()
            if planned.created and not planned.location:
                for name in LOCATION_PARTS:
                    region[str(name)] = not_read(str(name), "the planned location is known only after apply")
            location = planned.location or (live.location if live is not None else None)
            if want_capacities:
                subscription = planned.target.subscription_id.lower()
                queries = [
                    cap_futures[(subscription, fmt, model.lower(), version)].result()
                    for fmt, model, version in sorted(_capacity_queries(planned))
                ]
                region[MODEL_CAPACITIES] = _capacities_part(queries, location)
            gathered.append((planned, live, region))
    return gathered


def execute_plan(
    prepared: PlanPrepared, env: Mapping[str, str], *, credential: Any = None
) -> tuple[RunOutcome, dict[str, Any]]:
    """Read what the end states need (nothing with ``--offline``), build them, evaluate."""
    from aoai.preflight import evidence

    started = utc_now()
    clock = time.perf_counter()
    taken_at = format_time(started)
    principal = None
    requests = 0
    if prepared.offline:
        endpoint = OFFLINE_ENDPOINT
        gathered: list[tuple[PlannedAccount, AccountSnapshot | None, dict[str, Part]]] = [
            (planned, None, {}) for planned in prepared.accounts
        ]
    else:
        from aoai.preflight.arm import ArmReader

        endpoint = prepared.settings.endpoint
        with ArmReader(prepared.settings, env, credential=credential) as reader:
            principal = reader.principal()
            gathered = _gather(prepared, reader)
            requests = reader.request_count
    snapshots = [
        build(
            planned,
            prepared.plan,
            live=live,
            region=region,
            taken_at=taken_at,
            arm_endpoint=endpoint,
            offline=prepared.offline,
        )
        for planned, live, region in gathered
    ]
    report = build_report(snapshots, prepared.policy, prepared.selection)
    report.notes[:0] = list(prepared.plan.notes)
    if prepared.offline:
        report.notes.insert(
            0,
            "Partial verdict: --offline read nothing from ARM; the checks that need ARM data (region models, quota, "
            "capacity, and what an existing account has now) were skipped",
        )
    outcome = RunOutcome(
        report=report,
        snapshots=snapshots,
        policy=prepared.policy,
        selection=prepared.selection,
        principal=principal,
        started_at=taken_at,
        finished_at=format_time(utc_now()),
        elapsed_ms=round((time.perf_counter() - clock) * 1000, 1),
        arm_requests=requests,
        extra={"kind": "plan", "plan": plan_summary(prepared), "partial": prepared.offline},
    )
    return outcome, evidence.build(outcome)


def plan_summary(prepared: PlanPrepared) -> dict[str, Any]:
    """The evidence's ``plan`` member: which file, and which of its resources were evaluated."""
    plan = prepared.plan
    return {
        "file": plan.source,
        "sha256": plan.sha256,
        "format": plan.format,
        "format_version": plan.format_version,
        "tool_version": plan.tool_version,
        "offline": prepared.offline,
        "resources": [
            {**resource.to_dict(), "account": planned.target.resource_id}
            for planned in prepared.accounts
            for resource in ([planned.account] if planned.account else []) + planned.children
        ],
    }
