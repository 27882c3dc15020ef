"""``aoai preflight capacity``: which regions can host a model at a capacity, with this subscription's quota.

Thin: parse the options, call ``aoai.preflight.capacity.prepare`` / ``run``, render (table on a
TTY, JSON otherwise), exit 0 when a region fits, 1 when none does (2 usage, 3 auth, 4 ARM failed,
5 model not offered anywhere come from the errors the core raises or the result's exit code).
Core modules are imported inside the command so that ``aoai --help`` stays fast.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from aoai.cli.common import state
from aoai.cli.preflight import (
    ArmEndpoint,
    CaBundle,
    Cloud,
    Config,
    Credential,
    MaxWait,
    Subscription,
    Timeout,
    _output_format,
    wait_budget,
)

OUTPUTS = ("table", "json")

Model = Annotated[
    str, typer.Option("-m", "--model", metavar="MODEL", help="Model name, e.g. gpt-4.1.", show_default=False)
]
Version = Annotated[
    str | None,
    typer.Option(
        "--version", metavar="V", help="Model version, e.g. 2025-04-14 (default: the version ARM marks as default)."
    ),
]
Sku = Annotated[
    str | None,
    typer.Option("--sku", metavar="SKU", help="Deployment SKU, e.g. GlobalStandard (default: every SKU offered)."),
]
Capacity = Annotated[
    int | None,
    typer.Option(
        "--capacity",
        metavar="C",
        help="Capacity wanted: thousands of tokens per minute, or PTUs on provisioned SKUs (default: any).",
    ),
]
Regions = Annotated[
    list[str] | None,
    typer.Option(
        "--regions",
        metavar="R,R…",
        help="Only these regions, comma-separated (repeatable), e.g. swedencentral,eastus2.",
    ),
]
ResponsesOnly = Annotated[
    bool, typer.Option("--responses-only", help="Keep only regions where the Responses API is available (catalog).")
]
RetirementDays = Annotated[
    int | None,
    typer.Option(
        "--retirement-days", metavar="N", help="Flag regions where the model or SKU retires within N days (default 90)."
    ),
]
Output = Annotated[
    str | None,
    typer.Option(
        "-o", "--output", metavar="table|json", help="table | json (default: table on a TTY, json otherwise)."
    ),
]


def capacity(
    model: Model,
    version: Version = None,
    sku: Sku = None,
    capacity: Capacity = None,
    regions: Regions = None,
    responses_only: ResponsesOnly = False,
    retirement_days: RetirementDays = None,
    subscription: Subscription = None,
    arm_endpoint: ArmEndpoint = None,
    cloud: Cloud = None,
    credential: Credential = None,
    ca_bundle: CaBundle = None,
    config: Config = None,
    output: Output = None,
    max_wait: MaxWait = None,
    timeout: Timeout = None,
) -> None:
    """Which regions can host MODEL at CAPACITY now: available capacity, quota left, lifecycle, Responses API.

    Exit 0 when at least one region fits, 1 when none does, 5 when no region offers the model version.
    """
    from aoai.preflight import capacity as core

    cli = state()
    fmt = _output_format(output, OUTPUTS)
    options = core.CapacityOptions(
        model=model,
        version=version,
        sku=sku,
        capacity=capacity,
        regions=tuple(regions or ()),
        responses_only=responses_only,
        retirement_days=retirement_days,
        subscription=subscription,
        arm_endpoint=arm_endpoint,
        cloud=cloud,
        credential=credential,
        ca_bundle=ca_bundle,
        config=config,
    )
    prepared = core.prepare(options, cli.env, Path.cwd())
    result = core.run(prepared, cli.env, budget=wait_budget(max_wait, timeout))
    if fmt == "table":
        from aoai.preflight.formats import capacity as table

        width = shutil.get_terminal_size((120, 24)).columns if cli.stdout_is_tty else int(cli.env.get("COLUMNS") or 120)
        text = table.render(result, width=width, color=cli.color and cli.stdout_is_tty)
    else:
        text = json.dumps(result.to_dict(), indent=2)
        for row in result.errors:
            sys.stderr.write(f"aoai: warning: {row.region}/{row.sku}: {row.error}\n")
        if not result.fitting:
            sys.stderr.write(f"aoai: {result.summary()}\n")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    raise typer.Exit(int(result.exit_code))
