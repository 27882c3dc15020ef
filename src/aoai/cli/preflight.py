"""``aoai preflight``: release-readiness checks of an Azure OpenAI account (see docs/preflight.md).

Thin: parse the options, call ``aoai.preflight.prepare`` / ``execute_run``, render, exit with
the verdict's code (0 ready, 1 not ready, 4 incomplete; 2 usage, 3 auth, 5 not found come
from the errors the core raises). Core modules are imported inside the commands so that
``aoai --help`` stays fast.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from aoai.cli.common import state
from aoai.preflight.report import Area

app = typer.Typer(
    help="Check that an Azure OpenAI account is ready to release (exit 0 ready, 1 not ready, 4 incomplete).",
    no_args_is_help=True,
)

OUTPUTS = ("table", "json", "sarif", "junit", "markdown")

ResourceId = Annotated[str | None, typer.Option("--resource-id", help="The account's ARM resource id.")]
Subscription = Annotated[
    str | None, typer.Option("--subscription", help="Subscription id (default: aoai.toml, then AZURE_SUBSCRIPTION_ID).")
]
ResourceGroup = Annotated[str | None, typer.Option("-g", "--resource-group", help="Resource group of the account.")]
Account = Annotated[str | None, typer.Option("--account", help="Account name.")]
ArmEndpoint = Annotated[str | None, typer.Option("--arm-endpoint", help="ARM endpoint (env AOAI_ARM_ENDPOINT).")]
Cloud = Annotated[str | None, typer.Option("--cloud", help="public | usgov | china.")]
Credential = Annotated[
    str | None,
    typer.Option(
        "--credential",
        help="auto | cli | env | workload | managed-identity | default | token (env AOAI_CREDENTIAL; "
        "token = AOAI_ACCESS_TOKEN).",
    ),
]
CaBundle = Annotated[str | None, typer.Option("--ca-bundle", help="CA bundle for TLS (corporate proxy, emulator).")]
Config = Annotated[str | None, typer.Option("--config", help="Policy file (default ./aoai.toml when present).")]
Deployment = Annotated[
    list[str] | None,
    typer.Option("--deployment", help="Required deployment NAME[=MODEL[@VERSION]] (repeatable; replaces the file's)."),
]
Only = Annotated[list[str] | None, typer.Option("--only", help="Run only these checks: id, id prefix or area.")]
Skip = Annotated[list[str] | None, typer.Option("--skip", help="Skip these checks: id, id prefix or area.")]
FailOnOpt = Annotated[
    str | None, typer.Option("--fail-on", help="warn | fail (default fail): what makes it not ready.")
]
RetirementDays = Annotated[
    int | None, typer.Option("--retirement-days", help="Warn when a model retires within N days (default 90).")
]
Headroom = Annotated[
    float | None, typer.Option("--min-quota-headroom", help="Minimum free quota, percent of the limit (default 10).")
]
RequireCmk = Annotated[
    bool | None, typer.Option("--require-cmk/--no-require-cmk", help="Require customer-managed keys (AOAI603).")
]
Output = Annotated[
    str | None,
    typer.Option("-o", "--output", help="table | json | sarif | junit | markdown (default: table on a TTY)."),
]
EvidenceFile = Annotated[
    Path | None, typer.Option("--evidence", help="Also write the JSON evidence document here (atomically).")
]
MaxWait = Annotated[
    float | None,
    typer.Option(
        "--max-wait",
        metavar="S",
        help="Longest Retry-After wait taken, seconds (default 30); a longer one fails that read at once.",
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option("--timeout", metavar="S", help="Deadline for the whole run, seconds (default 120)."),
]
Probe = Annotated[bool, typer.Option("--probe", help="Also call the Responses API once per required deployment.")]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint", help="Data-plane endpoint for --probe (default AZURE_OPENAI_ENDPOINT, else the account's)."
    ),
]


def _output_format(output: str | None, choices: tuple[str, ...] = OUTPUTS) -> str:
    """``-o/--output``: one of ``choices``; by default a table on a TTY, JSON otherwise."""
    if output is None:
        return "table" if state().stdout_is_tty else "json"
    if output not in choices:
        raise typer.BadParameter(f"{output!r} is not one of {', '.join(choices)}", param_hint="-o/--output")
    return output


def _render(fmt: str, outcome: Any, document: dict[str, Any], width: int | None) -> str:
    from aoai.preflight import evidence
    from aoai.preflight.checks import all_checks

    if fmt == "json":
        return evidence.dumps(document)
    from aoai.preflight import formats

    policy_file = outcome.policy.source
    relative = None
    if policy_file:
        try:
            relative = str(Path(policy_file).resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            relative = None
    return formats.render(
        fmt,
        outcome.report,
        checks=all_checks(),
        width=width,
        color=state().color and state().stdout_is_tty,
        duration=outcome.elapsed_ms / 1000,
        policy_file=relative,
    )


def _check_evidence_path(path: Path | None) -> None:
    """``--evidence``: its directory must exist (checked before anything is read)."""
    from aoai.errors import UsageError

    if path is not None and not path.expanduser().resolve().parent.is_dir():
        raise UsageError(f"--evidence {path}: directory {path.parent} does not exist")


def wait_budget(max_wait: float | None, timeout: float | None) -> Any:
    """``--max-wait`` / ``--timeout`` as the run's WaitBudget; each wait taken is shown on stderr."""
    import math

    from aoai.errors import UsageError
    from aoai.preflight.waits import DEFAULT_MAX_WAIT, DEFAULT_TIMEOUT, WaitBudget

    wait = DEFAULT_MAX_WAIT if max_wait is None else max_wait
    deadline = DEFAULT_TIMEOUT if timeout is None else timeout
    if not math.isfinite(wait) or wait < 0:
        raise UsageError(f"--max-wait must be 0 or more seconds, not {wait:g}")
    if not math.isfinite(deadline) or not 0 < deadline <= 86400:
        raise UsageError(f"--timeout must be from 1 s to 86400 s, not {deadline:g}")

    def notify(text: str) -> None:
        sys.stderr.write(f"aoai: waiting: {text}\n")
        sys.stderr.flush()

    return WaitBudget(max_wait=wait, timeout=deadline, notify=notify)


def _output_width() -> int:
    """The terminal's width on a TTY, else ``COLUMNS``, else 100."""
    cli = state()
    columns = cli.env.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() else 100
    if cli.stdout_is_tty:
        width = shutil.get_terminal_size((width, 24)).columns
    return width


def _append_step_summary(path: str, markdown: str) -> None:
    from aoai.atomicfile import append_text
    from aoai.errors import AoaiError

    try:
        append_text(path, markdown if markdown.endswith("\n") else markdown + "\n", what="GITHUB_STEP_SUMMARY")
    except AoaiError as exc:
        sys.stderr.write(f"aoai: warning: {exc.message}\n")


def _publish(fmt: str, text: str, outcome: Any, document: dict[str, Any], evidence_path: Path | None) -> NoReturn:
    """Write the evidence (``--evidence``), append Markdown to ``GITHUB_STEP_SUMMARY`` when set,
    print ``text`` and exit with the verdict's code."""
    from aoai.preflight import evidence as evidence_mod

    if evidence_path is not None:
        evidence_mod.write_atomic(evidence_path, evidence_mod.dumps(document))
    summary = state().env.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append_step_summary(summary, text if fmt == "markdown" else _render("markdown", outcome, document, None))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    raise typer.Exit(int(outcome.report.exit_code))


def _policy_flags(options: dict[str, Any]) -> Any:
    from aoai.preflight.policy import PolicyFlags

    return PolicyFlags(
        deployments=tuple(options["deployment"] or ()),
        only=tuple(options["only"] or ()),
        skip=tuple(options["skip"] or ()),
        fail_on=options["fail_on"],
        retirement_days=options["retirement_days"],
        min_quota_headroom=options["min_quota_headroom"],
        require_cmk=options["require_cmk"],
    )


def _execute(area: Area | None, **options: Any) -> None:
    from aoai.preflight import RunOptions, execute_run, prepare

    cli = state()
    fmt = _output_format(options["output"])
    flags = _policy_flags(options)
    run_options = RunOptions(
        resource_id=options["resource_id"],
        subscription=options["subscription"],
        resource_group=options["resource_group"],
        account=options["account"],
        arm_endpoint=options["arm_endpoint"],
        cloud=options["cloud"],
        credential=options["credential"],
        ca_bundle=options["ca_bundle"],
        config=options["config"],
        flags=flags,
        area=area,
        probe=options["probe"],
        endpoint=options["endpoint"],
    )
    evidence_path: Path | None = options["evidence"]
    _check_evidence_path(evidence_path)
    prepared = prepare(run_options, cli.env, Path.cwd())
    budget = wait_budget(options["max_wait"], options["timeout"])
    outcome, document = execute_run(prepared, cli.env, endpoint=options["endpoint"], budget=budget)
    _publish(fmt, _render(fmt, outcome, document, _output_width()), outcome, document, evidence_path)


def _command(area: Area | None) -> Any:
    def command(
        resource_id: ResourceId = None,
        subscription: Subscription = None,
        resource_group: ResourceGroup = None,
        account: Account = None,
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
        probe: Probe = False,
        endpoint: Endpoint = None,
        max_wait: MaxWait = None,
        timeout: Timeout = None,
    ) -> None:
        _execute(area, **{k: v for k, v in locals().items() if k != "area"})

    return command


app.command("run", help="Run every check (exit 0 ready, 1 not ready, 4 incomplete).")(_command(None))
for _area in (Area.REGION, Area.DEPLOYMENTS, Area.SKUS, Area.NETWORK, Area.DIAGNOSTICS, Area.IDENTITY):
    app.command(_area.value, help=f"Run the {_area.value} checks only (same options as `run`).")(_command(_area))


PlanFile = Annotated[
    str,
    typer.Argument(
        metavar="PLAN_FILE",
        help="`az deployment … what-if --no-pretty-print` JSON or `terraform show -json` plan; - reads stdin.",
    ),
]
PlanFormat = Annotated[
    str, typer.Option("--format", help="auto | whatif | terraform (default auto: detected from the content).")
]
Offline = Annotated[
    bool,
    typer.Option("--offline", help="Read nothing from ARM: only what the plan alone decides (a partial verdict)."),
]


@app.command("plan")
def plan_command(
    plan_file: PlanFile,
    plan_format: PlanFormat = "auto",
    offline: Offline = False,
    subscription: Subscription = None,
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
) -> None:
    """Check a planned change (ARM What-If, Terraform plan JSON) before it is provisioned (exit 0 ready,
    1 not ready, 4 incomplete, 5 nothing to check)."""
    from aoai.preflight.plan.run import PlanOptions, execute_plan, prepare_plan

    cli = state()
    fmt = _output_format(output)
    _check_evidence_path(evidence)
    options = PlanOptions(
        plan_file=plan_file,
        plan_format=plan_format,
        offline=offline,
        subscription=subscription,
        arm_endpoint=arm_endpoint,
        cloud=cloud,
        credential=credential,
        ca_bundle=ca_bundle,
        config=config,
        flags=_policy_flags(locals()),
    )
    prepared = prepare_plan(options, cli.env, Path.cwd())
    outcome, document = execute_plan(prepared, cli.env)
    _publish(fmt, _render(fmt, outcome, document, _output_width()), outcome, document, evidence)


@app.command("checks")
def checks_command(
    output: Annotated[str, typer.Option("-o", "--output", help="table | json | markdown.")] = "table",
) -> None:
    """List every check: id, area, severity, title."""
    from aoai.preflight.checks.docs import catalog_rows, catalog_text, checks_markdown

    if output == "json":
        sys.stdout.write(json.dumps(catalog_rows(), indent=2) + "\n")
    elif output == "markdown":
        sys.stdout.write(checks_markdown())
    elif output == "table":
        sys.stdout.write(catalog_text())
    else:
        raise typer.BadParameter(f"{output!r} is not one of table, json, markdown", param_hint="-o/--output")


@app.command("explain")
def explain_command(check_id: Annotated[str, typer.Argument(metavar="ID", help="A check id, e.g. AOAI201.")]) -> None:
    """Explain one check: what, why, pass/fail, remediation, references, equivalent controls."""
    from aoai.errors import UsageError
    from aoai.preflight.checks import all_checks
    from aoai.preflight.checks.docs import explain_text

    info = all_checks().get(check_id.strip().upper())
    if info is None:
        raise UsageError(f"no check {check_id!r}", hint="`aoai preflight checks` lists them")
    sys.stdout.write(explain_text(info))


@app.command("verify")
def verify_command(
    path: Annotated[Path, typer.Argument(metavar="EVIDENCE.json", help="An evidence file written by --evidence.")],
) -> None:
    """Verify an evidence file: schema, digest, every verdict re-evaluated from its snapshot (exit 1 on mismatch)."""
    from aoai import userinput
    from aoai.preflight import evidence

    document = userinput.read_json(str(path), where=f"evidence file {path}")
    result = evidence.verify(document)
    if result.ok:
        sys.stdout.write(
            f"verified: {path}: schema ok, digest ok, {result.findings} findings re-evaluated, "
            f"verdict {result.verdict}\n"
        )
        for note in result.notes:
            sys.stdout.write(f"  note: {note}\n")
        return
    sys.stderr.write(f"aoai: verification failed: {path}\n")
    for problem in result.problems:
        sys.stderr.write(f"  - {problem}\n")
    raise typer.Exit(1)
