"""Run the checks: plan the parts, gather the snapshot, evaluate, apply waivers, report.

``evaluate``/``build_report`` are pure (snapshot + policy + selection -> findings / Report):
``aoai preflight verify`` calls them on a stored snapshot and must get the same verdicts.
``execute`` adds the I/O — ARM through ``ArmReader`` and, with ``--probe``, the data plane.

Rules the engine enforces for every check, so no check can get them wrong:
- a check whose declared parts are missing or failed reports ``error`` with the reason and the
  request id, and is not called;
- a check that raises reports ``error`` ("check crashed"), never disappears;
- a check that returns nothing reports one ``skip``;
- a check outside the selection reports ``skip`` ("deselected"); the verdict ignores skips.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aoai.errors import UsageError
from aoai.preflight.checks import CheckInfo, all_checks, select
from aoai.preflight.checks.common import PartUnavailable
from aoai.preflight.policy import Policy, apply_waivers
from aoai.preflight.report import Area, Finding, Report, Status
from aoai.preflight.snapshot import AccountSnapshot, PartName, Target, format_time, utc_now

if TYPE_CHECKING:
    from aoai.config import ArmSettings
    from aoai.preflight.arm import ArmReader, Principal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """Which checks run (``selected``) out of which are reported (``universe``: every check for
    ``run``, one area's for ``aoai preflight network`` and friends), and whether to probe."""

    selected: frozenset[str]
    universe: frozenset[str]
    probe: bool = False
    why_deselected: str = "deselected"

    @classmethod
    def build(
        cls,
        policy: Policy,
        *,
        area: Area | None = None,
        probe: bool = False,
    ) -> Selection:
        checks = all_checks()
        universe = {cid for cid, info in checks.items() if area is None or info.area is area}
        selected = select(policy.only, policy.skip, universe)
        if not selected:
            # A gate that checks nothing must not say "ready".
            scope = f"the {area.value} checks" if area is not None else "the checks"
            raise UsageError(f"--only / --skip leave none of {scope} to run", hint="`aoai preflight checks` lists them")
        parts = []
        if policy.only:
            parts.append(f"--only {' '.join(policy.only)}")
        if policy.skip:
            parts.append(f"--skip {' '.join(policy.skip)}")
        why = "deselected" + (f" ({'; '.join(parts)})" if parts else "")
        return cls(frozenset(selected), frozenset(universe), probe, why)

    def to_dict(self) -> dict[str, Any]:
        return {
            "selected": sorted(self.selected),
            "universe": sorted(self.universe),
            "probe": self.probe,
            "why_deselected": self.why_deselected,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Selection:
        return cls(
            frozenset(data["selected"]),
            frozenset(data["universe"]),
            bool(data.get("probe", False)),
            str(data.get("why_deselected", "deselected")),
        )


def parts_for(selection: Selection) -> set[str]:
    """The snapshot parts the selected checks declare, required or used when available (the account
    is always read)."""
    checks = all_checks()
    needed: set[str] = {PartName.ACCOUNT}
    for cid in selection.selected:
        needed |= set(checks[cid].parts) | set(checks[cid].uses)
    return needed


def _error_for(info: CheckInfo, snapshot: AccountSnapshot, unavailable: PartUnavailable) -> Finding:
    reason = unavailable.error.describe() if unavailable.error else "not collected"
    source = unavailable.source.source if unavailable.source is not None else None
    return Finding(
        check=info.id,
        status=Status.ERROR,
        severity=info.severity,
        target=snapshot.resource_id,
        message=f"Could not evaluate: {unavailable.part} unavailable — {reason}",
        observed={"part": unavailable.part, "error": unavailable.error.to_dict() if unavailable.error else None},
        source=source,
    )


def evaluate_check(info: CheckInfo, snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    """One check on one snapshot, with the engine's rules (error on missing parts or a crash).
    A planned end state (``aoai preflight plan``) adds the plan's rules: values unknown until
    apply and parts not read (``--offline``) make a check ``skip``, never ``pass``."""
    if snapshot.part("plan") is not None:
        from aoai.preflight.plan.evaluate import evaluate_planned

        return evaluate_planned(info, snapshot, policy, _evaluate_one)
    return _evaluate_one(info, snapshot, policy)


def _evaluate_one(info: CheckInfo, snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    for name in sorted(info.parts):
        part = snapshot.part(name)
        if part is None or not part.ok:
            return [_error_for(info, snapshot, PartUnavailable(name, part.error if part else None, part))]
    try:
        findings = info.fn(snapshot, policy)
    except PartUnavailable as unavailable:
        return [_error_for(info, snapshot, unavailable)]
    except Exception as exc:  # a bug in a check must show, as `error`, never as silence or `pass`
        log.debug("check %s crashed", info.id, exc_info=True)
        return [
            Finding(
                check=info.id,
                status=Status.ERROR,
                severity=info.severity,
                target=snapshot.resource_id,
                message=f"Check crashed: {type(exc).__name__}: {exc}",
            )
        ]
    if not findings:
        return [Finding(info.id, Status.SKIP, info.severity, snapshot.resource_id, "Nothing to evaluate")]
    return findings


def evaluate(snapshot: AccountSnapshot, policy: Policy, selection: Selection) -> list[Finding]:
    """Every check of the universe on one snapshot, in id order (pure)."""
    checks = all_checks()
    findings: list[Finding] = []
    for cid in sorted(selection.universe):
        info = checks[cid]
        if cid not in selection.selected:
            findings.append(Finding(cid, Status.SKIP, info.severity, snapshot.resource_id, selection.why_deselected))
            continue
        findings.extend(evaluate_check(info, snapshot, policy))
    return findings


def build_report(snapshots: Iterable[AccountSnapshot], policy: Policy, selection: Selection) -> Report:
    """Findings of every snapshot, waivers applied (as of each snapshot's time), notes (pure)."""
    snapshots = list(snapshots)
    findings: list[Finding] = []
    for snapshot in snapshots:
        findings.extend(evaluate(snapshot, policy, selection))
    today = min((s.now for s in snapshots), default=utc_now()).date()
    notes = apply_waivers(findings, policy.waivers, today)
    if policy.catalog.overrides:
        changed = "; ".join(
            f"{key} {', '.join(value) if isinstance(value, list) else value}"
            for key, value in sorted(policy.catalog.overrides.items())
        )
        notes.append(f"Responses catalog changed by the policy file: {changed}")
    return Report(
        findings=findings,
        targets=[s.resource_id for s in snapshots],
        fail_on=policy.fail_on,
        notes=notes,
    )


@dataclass
class RunOutcome:
    """A run's report plus what the evidence needs: snapshots, principal, timing, request count."""

    report: Report
    snapshots: list[AccountSnapshot]
    policy: Policy
    selection: Selection
    principal: Principal | None
    started_at: str
    finished_at: str
    elapsed_ms: float
    arm_requests: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


ProbeFn = Callable[[AccountSnapshot, Policy], Any]  # returns the ``probe`` Part


def execute(
    targets: list[Target],
    policy: Policy,
    selection: Selection,
    *,
    reader: ArmReader,
    probe: ProbeFn | None = None,
) -> RunOutcome:
    """Gather each target's snapshot (concurrently inside each), probe if asked, evaluate."""
    started = utc_now()
    clock = time.perf_counter()
    principal = reader.principal()
    parts = parts_for(selection)
    snapshots = []
    for target in targets:
        snapshot = reader.snapshot(target, parts)
        if selection.probe and probe is not None and "AOAI701" in selection.selected:
            snapshot.parts[str(PartName.PROBE)] = probe(snapshot, policy)
        snapshots.append(snapshot)
    report = build_report(snapshots, policy, selection)
    return RunOutcome(
        report=report,
        snapshots=snapshots,
        policy=policy,
        selection=selection,
        principal=principal,
        started_at=format_time(started),
        finished_at=format_time(utc_now()),
        elapsed_ms=round((time.perf_counter() - clock) * 1000, 1),
        arm_requests=reader.request_count,
    )


def run(
    target: Target,
    policy: Policy,
    selection: Selection,
    *,
    reader: ArmReader | None = None,
    settings: ArmSettings | None = None,
    env: Mapping[str, str] | None = None,
    probe: ProbeFn | None = None,
) -> Report:
    """Check one account: the Report (``execute`` also returns what the evidence needs). Pass a
    ``reader``, or ``settings`` and ``env`` to build one for this run."""
    if reader is not None:
        return execute([target], policy, selection, reader=reader, probe=probe).report
    if settings is None:
        raise ValueError("run() needs a reader, or settings and env")
    from aoai.preflight.arm import ArmReader

    with ArmReader(settings, env or {}) as own:
        return execute([target], policy, selection, reader=own, probe=probe).report
