"""Release-readiness checks of an Azure OpenAI account (``aoai preflight``).

The CLI builds a ``RunOptions`` from its flags and calls ``prepare`` (no network: resolves the
policy file, flags, target and selection — every problem is a UsageError, exit 2) and then
``execute_run`` (ARM, optional probe, evaluation, evidence document). Everything heavy is
imported inside the functions: importing this package must stay cheap for ``aoai --help``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aoai.config import ArmSettings
    from aoai.preflight.engine import RunOutcome, Selection
    from aoai.preflight.policy import Policy, PolicyFlags
    from aoai.preflight.report import Area
    from aoai.preflight.snapshot import Target
    from aoai.preflight.waits import WaitBudget


class ConnectionFlags(Protocol):
    """The ARM connection flags every preflight command takes (``RunOptions``, the fleet's and
    capacity's options)."""

    @property
    def arm_endpoint(self) -> str | None: ...
    @property
    def cloud(self) -> str | None: ...
    @property
    def credential(self) -> str | None: ...
    @property
    def ca_bundle(self) -> str | None: ...


def connection_settings(flags: ConnectionFlags, env: Mapping[str, str]) -> ArmSettings:
    """ARM settings from the connection flags, env and profile. The subscription is left to the
    caller (``settings.subscription`` is only the env/profile default)."""
    from aoai.config import arm_settings

    return arm_settings(
        env,
        arm_endpoint=flags.arm_endpoint,
        cloud=flags.cloud,
        credential=flags.credential,
        ca_bundle_flag=flags.ca_bundle,
        subscription=None,
    )


@dataclass(frozen=True)
class RunOptions:
    """Everything ``aoai preflight run`` (or an area command) was given."""

    resource_id: str | None = None
    subscription: str | None = None
    resource_group: str | None = None
    account: str | None = None
    arm_endpoint: str | None = None
    cloud: str | None = None
    credential: str | None = None
    ca_bundle: str | None = None
    config: str | None = None
    flags: PolicyFlags | None = None
    area: Area | None = None
    probe: bool = False
    endpoint: str | None = None  # data-plane endpoint for --probe (default: AZURE_OPENAI_ENDPOINT, else ARM's)


@dataclass(frozen=True)
class Prepared:
    target: Target
    policy: Policy
    selection: Selection
    settings: ArmSettings
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_target(options: RunOptions, policy: Policy, env_subscription: str | None) -> Target:
    """``--resource-id``; else ``--subscription``/``-g``/``--account``, each falling back to the
    policy file, and the subscription finally to ``AZURE_SUBSCRIPTION_ID`` / the profile."""
    from aoai.errors import UsageError
    from aoai.preflight.snapshot import Target

    if options.resource_id:
        if options.account or options.resource_group:
            raise UsageError("give --resource-id or -g/--account, not both")
        return _checked(Target.parse(options.resource_id), "--resource-id")
    spec = policy.target
    from_file = Target.parse(spec.resource_id) if spec.resource_id else None
    subscription = (
        options.subscription
        or spec.subscription
        or (from_file.subscription_id if from_file else None)
        or env_subscription
    )
    group = options.resource_group or spec.resource_group or (from_file.resource_group if from_file else None)
    account = options.account or spec.account or (from_file.account if from_file else None)
    missing = [
        name
        for name, value in (("--subscription", subscription), ("-g/--resource-group", group), ("--account", account))
        if not value
    ]
    if missing:
        raise UsageError(
            f"no target account: missing {', '.join(missing)}",
            hint="pass --resource-id, or --subscription (AZURE_SUBSCRIPTION_ID) with -g and --account, "
            "or name the account in aoai.toml [preflight]",
        )
    assert subscription and group and account
    return _checked(Target(subscription, group, account))


def _checked(target: Target, where: str | None = None) -> Target:
    """ARM's naming rules, before any request: an odd name never becomes an odd URL."""
    from aoai import validation

    validation.subscription_id(target.subscription_id, f"{where}: subscription" if where else "--subscription")
    validation.resource_group(target.resource_group, f"{where}: resource group" if where else "-g/--resource-group")
    validation.account_name(target.account, f"{where}: account" if where else "--account")
    return target


def prepare(options: RunOptions, env: Mapping[str, str], cwd: Path) -> Prepared:
    """Resolve policy file + flags, target, selection and ARM settings (no network)."""
    from aoai.preflight.engine import Selection
    from aoai.preflight.policy import load_policy

    policy = load_policy(options.config, options.flags, cwd, env)
    settings = connection_settings(options, env)
    target = resolve_target(options, policy, settings.subscription)
    selection = Selection.build(policy, area=options.area, probe=options.probe)
    extra: dict[str, Any] = {}
    project = project_of(options.resource_id or policy.target.resource_id)
    if project is not None:
        extra["note"] = (
            f"The resource id names Foundry project {project}, which belongs to account {target.account}: "
            f"account {target.account} was checked (deployments, network, logs and identity are the account's)"
        )
    return Prepared(target=target, policy=policy, selection=selection, settings=settings, extra=extra)


def project_of(resource_id: str | None) -> str | None:
    """The Foundry project a resource id names (``…/accounts/A/projects/P``), if any."""
    from aoai.preflight.snapshot import Target

    return Target.parse_with_project(resource_id)[1] if resource_id else None


def execute_run(
    prepared: Prepared,
    env: Mapping[str, str],
    *,
    endpoint: str | None = None,
    credential: Any = None,
    budget: WaitBudget | None = None,
) -> tuple[RunOutcome, dict[str, Any]]:
    """Read ARM, probe if asked, evaluate; the outcome and its evidence document."""
    from aoai.config import ENV_ENDPOINT
    from aoai.preflight import evidence
    from aoai.preflight.arm import ArmReader
    from aoai.preflight.engine import execute
    from aoai.preflight.probe import run_probe
    from aoai.preflight.snapshot import AccountSnapshot, Part

    data_endpoint = endpoint or env.get(ENV_ENDPOINT)

    def probe(snapshot: AccountSnapshot, policy: Policy) -> Part:
        return run_probe(snapshot, policy, env, endpoint=data_endpoint, ca_bundle=prepared.settings.ca_bundle)

    with ArmReader(prepared.settings, env, credential=credential, budget=budget) as reader:
        outcome = execute([prepared.target], prepared.policy, prepared.selection, reader=reader, probe=probe)
    if "note" in prepared.extra:
        outcome.report.notes.append(prepared.extra["note"])
    return outcome, evidence.build(outcome)
