"""``aoai preflight fleet``: every account in a scope, found through Azure Resource Graph (docs/fleet.md).

Thin: parse the options, call ``aoai.preflight.fleet.prepare`` / ``run_fleet``, render, exit with
the worst verdict across the accounts (0 all ready, 1 any not ready, 4 any incomplete; 2 usage,
3 auth, 5 no account matched come from the errors the core raises). While it runs, a progress
bar on stderr when stderr is a terminal. Output formats and evidence are ``preflight run``'s;
the table is the fleet summary (accounts × areas) followed by the failing findings.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import typer

from aoai.cli.common import state
from aoai.cli.preflight import (
    ArmEndpoint,
    CaBundle,
    Cloud,
    Config,
    Credential,
    Deployment,
    EvidenceFile,
    FailOnOpt,
    Headroom,
    MaxWait,
    Only,
    Output,
    RequireCmk,
    RetirementDays,
    Skip,
    Timeout,
    _check_evidence_path,
    _output_format,
    _output_width,
    _publish,
    _render,
    wait_budget,
)

if TYPE_CHECKING:
    from rich.console import Console

    from aoai.preflight.engine import RunOutcome

Subscriptions = Annotated[
    list[str] | None,
    typer.Option(
        "--subscription",
        help="Subscription id to search (repeatable; default: every subscription the credential can read).",
    ),
]
ManagementGroups = Annotated[
    list[str] | None,
    typer.Option("--management-group", help="Management group id to search (repeatable; instead of --subscription)."),
]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="KQL predicate over Resource Graph's Resources columns, e.g. \"tags.env == 'prod'\" "
        "(repeatable; all must hold).",
    ),
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", help="ARM requests in flight at once (1-64).", show_default=True)
]


class ProgressBar:
    """Accounts read so far, on a terminal's stderr (rich); removed when the run ends."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("Discovering accounts (Resource Graph)", total=None)

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._progress.stop()

    def discovered(self, total: int) -> None:
        self._progress.update(self._task, total=total, description="Reading accounts")

    def advance(self, account: str) -> None:
        self._progress.advance(self._task)


def fleet_table(outcome: RunOutcome, *, width: int | None, color: bool) -> str:
    """The fleet summary (accounts × areas, worst status) then, per account, the findings that
    block the gate (fail, error; warn with --fail-on warn)."""
    from aoai.preflight.checks import all_checks
    from aoai.preflight.formats import blocks_gate, table
    from aoai.preflight.report import Report

    checks = all_checks()
    report = outcome.report
    text = table.render_fleet_summary(report, checks=checks, width=width, color=color)
    failing = [f for f in report.findings if blocks_gate(f, report)]
    if not failing:
        return text
    targets = [t for t in report.targets if any(f.target == t for f in failing)]
    detail = table.render(
        Report(findings=failing, targets=targets, fail_on=report.fail_on), checks=checks, width=width, color=color
    )
    return f"{text}\nFailing findings ({len(failing)} in {len(targets)} account(s))\n\n{detail}"


def fleet(
    subscription: Subscriptions = None,
    management_group: ManagementGroups = None,
    where: Where = None,
    concurrency: Concurrency = 8,
    arm_endpoint: ArmEndpoint = None,
    cloud: Cloud = None,
    credential: Credential = None,
    ca_bundle: CaBundle = None,
    config: Config = None,
    deployment: Deployment = None,
    only: Only = None,
    skip: Skip = None,
    fail_on: FailOnOpt = None,
    retirement_days: RetirementDays = None,
    min_quota_headroom: Headroom = None,
    require_cmk: RequireCmk = None,
    output: Output = None,
    evidence: EvidenceFile = None,
    max_wait: MaxWait = None,
    timeout: Timeout = None,
) -> None:
    """Check every Azure OpenAI / AI Services account in a scope, found through Azure Resource Graph.

    Exit 0 when every account is ready, 1 when any is not ready, 4 when any could not be fully checked.
    """
    from aoai.preflight import evidence as evidence_mod
    from aoai.preflight import fleet as core
    from aoai.preflight.policy import PolicyFlags

    cli = state()
    fmt = _output_format(output)
    _check_evidence_path(evidence)
    options = core.FleetOptions(
        subscriptions=tuple(subscription or ()),
        management_groups=tuple(management_group or ()),
        where=tuple(where or ()),
        concurrency=concurrency,
        arm_endpoint=arm_endpoint,
        cloud=cloud,
        credential=credential,
        ca_bundle=ca_bundle,
        config=config,
        flags=PolicyFlags(
            deployments=tuple(deployment or ()),
            only=tuple(only or ()),
            skip=tuple(skip or ()),
            fail_on=fail_on,
            retirement_days=retirement_days,
            min_quota_headroom=min_quota_headroom,
            require_cmk=require_cmk,
        ),
    )
    prepared = core.prepare(options, cli.env, Path.cwd())
    budget = wait_budget(max_wait, timeout)
    if cli.err.is_terminal:
        with ProgressBar(cli.err) as bar:
            outcome = core.run_fleet(prepared, cli.env, progress=bar, budget=budget)
    else:
        outcome = core.run_fleet(prepared, cli.env, budget=budget)
    # The evidence (~50 KB per account, redacted and digested) only when it is printed or written.
    document = evidence_mod.build(outcome) if fmt == "json" or evidence is not None else {}
    width = _output_width()
    color = cli.color and cli.stdout_is_tty
    text = fleet_table(outcome, width=width, color=color) if fmt == "table" else _render(fmt, outcome, document, width)
    _publish(fmt, text, outcome, document, evidence)
