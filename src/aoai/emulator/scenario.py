"""Scenarios: the subscriptions, accounts, deployments, models and settings the emulator serves.

A scenario is plain data. ``load_scenario`` builds one from a built-in name (``default``,
``fleet:N``) or from a TOML file; ``aoai.emulator.arm_payloads`` turns it into ARM JSON. Dates that must
stay meaningful over time (model retirement, SKU deprecation) are given in TOML as offsets from
the moment the scenario is loaded (``inference_in_days = 40``), so "retires in 40 days" stays
true whenever the emulator starts. Every loading problem raises ``ValueError`` with a one-line
message naming the offending key; the CLI turns it into exit 2.

The data plane relies on ``Scenario.default_subscription`` and ``Scenario.data_plane_deployment``.
"""

from __future__ import annotations

import datetime as dt
import random
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

UTC = dt.UTC
DEFAULT_TENANT = "72f988bf-0000-0000-0000-000000000000"
ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
FLEET_MAX = 5000

# Parts a scenario may mark as forbidden (403 AuthorizationFailed), per account and per subscription.
ACCOUNT_PARTS = (
    "account",
    "deployments",
    "models",
    "usages",
    "skus",
    "private_endpoint_connections",
    "diagnostic_settings",
    "diagnostic_categories",
    "rai_policies",
)
SUBSCRIPTION_PARTS = ("accounts", "location_models", "usages", "model_capacities", "resource_graph")


def normalize_location(location: str) -> str:
    """ARM location names: ``Sweden Central`` and ``SwedenCentral`` both mean ``swedencentral``."""
    return location.replace(" ", "").lower()


def usage_name(model_format: str, sku: str, model: str) -> str:
    """The quota usage name ARM reports for a model on a SKU, e.g. ``OpenAI.GlobalStandard.gpt-4.1``."""
    return f"{model_format}.{sku}.{model}"


@dataclass
class Subscription:
    id: str
    display_name: str
    tenant_id: str = DEFAULT_TENANT
    state: str = "Enabled"
    resource_groups: list[str] = field(default_factory=list)
    management_groups: list[str] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)
    quota_id: str = "EnterpriseAgreement_2014-09-01"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Deployment:
    name: str
    model_name: str
    model_version: str
    model_format: str = "OpenAI"
    sku_name: str = "Standard"
    capacity: int = 1
    rai_policy_name: str | None = None
    version_upgrade_option: str | None = None
    provisioning_state: str = "Succeeded"
    created_at: dt.datetime | None = None


@dataclass
class RaiPolicy:
    """A custom content filter policy: its base policy's filters with ``filters`` replacing those
    of the same name and source (each a ``contentFilters`` entry as ARM returns it)."""

    name: str
    base_policy: str = "Microsoft.DefaultV2"
    mode: str = "Blocking"
    filters: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PrivateEndpointConnection:
    name: str
    status: str = "Approved"
    description: str = ""
    actions_required: str = "None"
    private_endpoint_id: str | None = None  # derived from the account when None


@dataclass
class LogSetting:
    enabled: bool = True
    category: str | None = None
    category_group: str | None = None


@dataclass
class MetricSetting:
    category: str = "AllMetrics"
    enabled: bool = True


@dataclass
class DiagnosticSetting:
    name: str
    workspace_id: str | None = None
    storage_account_id: str | None = None
    event_hub_authorization_rule_id: str | None = None
    event_hub_name: str | None = None
    log_analytics_destination_type: str | None = None
    logs: list[LogSetting] = field(default_factory=list)
    metrics: list[MetricSetting] = field(default_factory=list)


@dataclass
class Account:
    name: str
    resource_group: str
    subscription_id: str
    location: str
    deployments: list[Deployment] = field(default_factory=list)
    kind: str = "OpenAI"
    sku_name: str = "S0"
    provisioning_state: str = "Succeeded"
    custom_subdomain: str | None = None
    endpoint_override: str | None = None
    public_network_access: str = "Enabled"
    network_default_action: str | None = "Allow"  # None: the account has no networkAcls at all
    network_bypass: str | None = None
    ip_rules: list[str] = field(default_factory=list)
    virtual_network_rules: list[str] = field(default_factory=list)
    restrict_outbound_network_access: bool = False
    allowed_fqdn_list: list[str] = field(default_factory=list)
    disable_local_auth: bool = False
    identity_type: str = "None"
    user_assigned_identities: list[str] = field(default_factory=list)
    encryption_key_source: str | None = "Microsoft.CognitiveServices"
    key_vault_uri: str | None = None
    key_name: str | None = None
    key_version: str | None = None
    key_identity_client_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime(2025, 1, 15, tzinfo=UTC))
    private_endpoint_connections: list[PrivateEndpointConnection] = field(default_factory=list)
    diagnostic_settings: list[DiagnosticSetting] = field(default_factory=list)
    rai_policies: list[RaiPolicy] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{ACCOUNT_TYPE}/{self.name}"
        )

    @property
    def endpoint(self) -> str:
        if self.endpoint_override:
            return self.endpoint_override
        if self.custom_subdomain:
            return f"https://{self.custom_subdomain}.openai.azure.com/"
        return f"https://{self.location}.api.cognitive.microsoft.com/"

    @property
    def principal_id(self) -> str | None:
        if "SystemAssigned" not in self.identity_type:
            return None
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "principal:" + self.id.lower()))


@dataclass
class ModelSku:
    name: str
    usage_name: str
    capacity_default: int | None = None
    capacity_maximum: int | None = None
    capacity_minimum: int | None = None
    capacity_step: int | None = None
    deprecation_date: dt.datetime | None = None


@dataclass
class LocationModel:
    location: str
    name: str
    version: str
    format: str = "OpenAI"
    kind: str = "OpenAI"
    lifecycle_status: str = "GenerallyAvailable"
    is_default_version: bool = True
    inference_deprecation: dt.datetime | None = None
    fine_tune_deprecation: dt.datetime | None = None
    deprecation_status: str | None = None
    replacement_model: str | None = None
    replacement_version: str | None = None
    auto_upgrade_start: dt.datetime | None = None
    upgrade_lead_time_days: int | None = None
    skus: list[ModelSku] = field(default_factory=list)
    capabilities: dict[str, str] = field(default_factory=lambda: {"chatCompletion": "true"})
    max_capacity: int = 50
    created_at: dt.datetime | None = None


@dataclass
class Usage:
    subscription_id: str
    location: str
    name: str
    limit: int
    current: int
    unit: str = "Count"
    localized_name: str | None = None


@dataclass
class ModelCapacity:
    location: str
    model_name: str
    model_version: str
    sku_name: str
    available_capacity: int
    model_format: str = "OpenAI"
    available_finetune_capacity: int = 0


@dataclass
class Limits:
    """ARM throttling and paging, per https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
    (token bucket: 250 reads per subscription, refilled at 25 per second) and Resource Graph's
    15 queries per 5-second window."""

    subscription_reads: int = 250
    subscription_reads_per_second: float = 25.0
    graph_queries: int = 15
    graph_window_seconds: float = 5.0
    deployments_page_size: int = 20
    accounts_page_size: int = 100
    default_quota: int = 1000


@dataclass
class Scenario:
    name: str
    accounts: list[Account]
    subscriptions: list[Subscription] = field(default_factory=list)
    tenant_id: str = DEFAULT_TENANT
    location_models: list[LocationModel] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)
    model_capacities: list[ModelCapacity] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        known = {s.id.lower() for s in self.subscriptions}
        for account in self.accounts:
            if account.subscription_id.lower() not in known:
                self.subscriptions.append(Subscription(account.subscription_id, account.subscription_id))
                known.add(account.subscription_id.lower())
            sub = self.subscription(account.subscription_id)
            assert sub is not None
            if account.resource_group.lower() not in {g.lower() for g in sub.resource_groups}:
                sub.resource_groups.append(account.resource_group)

    # --- lookups (ARM names are case-insensitive) ---------------------------------------------

    @property
    def default_subscription(self) -> str:
        if self.subscriptions:
            return self.subscriptions[0].id
        return self.accounts[0].subscription_id

    def subscription(self, subscription_id: str) -> Subscription | None:
        wanted = subscription_id.lower()
        return next((s for s in self.subscriptions if s.id.lower() == wanted), None)

    def has_resource_group(self, subscription_id: str, resource_group: str) -> bool:
        sub = self.subscription(subscription_id)
        return sub is not None and resource_group.lower() in {g.lower() for g in sub.resource_groups}

    def accounts_in(self, subscription_id: str, resource_group: str | None = None) -> list[Account]:
        return [
            a
            for a in self.accounts
            if a.subscription_id.lower() == subscription_id.lower()
            and (resource_group is None or a.resource_group.lower() == resource_group.lower())
        ]

    def account(self, subscription_id: str, resource_group: str, name: str) -> Account | None:
        found = self.accounts_in(subscription_id, resource_group)
        return next((a for a in found if a.name.lower() == name.lower()), None)

    def data_plane_deployment(self, name: str) -> Deployment | None:
        """The deployment the data plane answers for under ``name`` (any account's), or None."""
        for account in self.accounts:
            for deployment in account.deployments:
                if deployment.name == name:
                    return deployment
        return None

    def models_in(self, location: str) -> list[LocationModel]:
        wanted = normalize_location(location)
        return [m for m in self.location_models if m.location == wanted]

    def usages_in(self, subscription_id: str, location: str) -> list[Usage]:
        """Explicit usages for (subscription, location), plus one derived from the deployments there
        for every usage name not listed explicitly (current = sum of capacities, limit = default quota)."""
        wanted = normalize_location(location)
        explicit = [
            u for u in self.usages if u.subscription_id.lower() == subscription_id.lower() and u.location == wanted
        ]
        names = {u.name for u in explicit}
        derived: dict[str, Usage] = {}
        for account in self.accounts_in(subscription_id):
            if account.location != wanted:
                continue
            for d in account.deployments:
                key = usage_name(d.model_format, d.sku_name, d.model_name)
                if key in names:
                    continue
                entry = derived.setdefault(key, Usage(subscription_id, wanted, key, self.limits.default_quota, 0))
                entry.current += d.capacity
        return explicit + list(derived.values())

    def capacities_for(
        self, model_format: str, model_name: str, model_version: str, location: str | None = None
    ) -> list[ModelCapacity]:
        return [
            c
            for c in self.model_capacities
            if c.model_format.lower() == model_format.lower()
            and c.model_name.lower() == model_name.lower()
            and c.model_version.lower() == model_version.lower()
            and (location is None or c.location == normalize_location(location))
        ]


# --- loading ----------------------------------------------------------------------------------


def load_scenario(name_or_path: str, *, now: dt.datetime | None = None) -> Scenario:
    """A built-in scenario (``default``, ``fleet:N``) or a TOML file. Raises ValueError (one line)."""
    started = (now or dt.datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    text = name_or_path.strip()
    if text == "default":
        data = resources.files("aoai.emulator").joinpath("scenarios/default.toml").read_text(encoding="utf-8")
        return scenario_from_toml(data, source="built-in scenario 'default'", now=started)
    if text.startswith("fleet:"):
        raw = text.removeprefix("fleet:")
        if not raw.isdigit() or not 1 <= int(raw) <= FLEET_MAX:
            raise ValueError(f"scenario 'fleet:N' needs a whole number N from 1 to {FLEET_MAX}, not {raw!r}")
        return fleet_scenario(int(raw), now=started)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".toml" or path.exists() or "/" in text or "\\" in text:
        if not path.is_file():
            raise ValueError(f"scenario file {text!r} not found")
        try:
            data = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"scenario file {text!r} cannot be read: {exc}") from exc
        return scenario_from_toml(data, source=f"scenario file {path.name}", now=started)
    raise ValueError(f"unknown scenario {text!r}: use 'default', 'fleet:N' or the path of a .toml file")


_MISSING: Any = object()


class _Table:
    """A TOML table being read: typed getters, and an error for every key nobody read."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{source}: {where or 'top level'} must be a table")
        self.data: dict[str, Any] = data
        self.where = where
        self.source = source
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> ValueError:
        path = f"{self.where}.{key}" if self.where else key
        return ValueError(f"{self.source}: key '{path}' {problem}")

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.fail(key, "is required")
            return default
        return self.data[key]

    def string(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is not default and not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def integer(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is not default and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.fail(key, "must be a whole number")
        return value

    def number(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is not default and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise self.fail(key, "must be a number")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is not default and not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def str_list(self, key: str) -> list[str]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return list(value)

    def str_map(self, key: str) -> dict[str, str]:
        value = self._get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.fail(key, "must be a table of strings")
        return dict(value)

    def choice(self, key: str, choices: Iterable[str], default: Any = _MISSING) -> Any:
        value = self.string(key, default)
        options = list(choices)
        if value is not default and value not in options:
            raise self.fail(key, f"must be one of {', '.join(options)} (not {value!r})")
        return value

    def parts(self, key: str, allowed: tuple[str, ...]) -> set[str]:
        values = self.str_list(key)
        for v in values:
            if v not in allowed:
                raise self.fail(key, f"names an unknown part {v!r} (known: {', '.join(allowed)})")
        return set(values)

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "must be an array of tables ([[...]])")
        prefix = f"{self.where}.{key}" if self.where else key
        return [_Table(item, f"{prefix}[{i}]", self.source) for i, item in enumerate(value)]

    def table(self, key: str) -> _Table | None:
        value = self._get(key, None)
        if value is None:
            return None
        return _Table(value, f"{self.where}.{key}" if self.where else key, self.source)

    def when(self, key: str, now: dt.datetime) -> dt.datetime | None:
        """A date given as ``KEY = 2027-01-01`` (absolute) or ``KEY_in_days = N`` (from now)."""
        absolute = self._get(key, None)
        offset = self._get(f"{key}_in_days", None)
        if absolute is not None and offset is not None:
            raise self.fail(key, f"and '{key}_in_days' are both set; give one")
        if offset is not None:
            if not isinstance(offset, int | float) or isinstance(offset, bool):
                raise self.fail(f"{key}_in_days", "must be a number of days")
            return now + dt.timedelta(days=offset)
        if absolute is None:
            return None
        if isinstance(absolute, dt.datetime):
            return absolute if absolute.tzinfo else absolute.replace(tzinfo=UTC)
        if isinstance(absolute, dt.date):
            return dt.datetime(absolute.year, absolute.month, absolute.day, tzinfo=UTC)
        if isinstance(absolute, str):
            try:
                parsed = dt.datetime.fromisoformat(absolute.replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(key, "must be a date (2027-01-31) or an ISO date-time") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        raise self.fail(key, "must be a date (2027-01-31) or an ISO date-time")

    def done(self) -> None:
        for key in self.data:
            if key not in self.used:
                path = f"{self.where}.{key}" if self.where else key
                raise ValueError(f"{self.source}: unknown key '{path}'")


def scenario_from_toml(text: str, *, source: str = "scenario", now: dt.datetime | None = None) -> Scenario:
    """Parse a scenario TOML document (format in docs/emulator.md). Raises ValueError (one line)."""
    started = (now or dt.datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source} is not valid TOML: {exc}") from None
    top = _Table(raw, "", source)

    head = top.table("scenario")
    name = "custom"
    tenant = DEFAULT_TENANT
    if head is not None:
        name = head.string("name", name)
        tenant = head.string("tenant_id", tenant)
        head.done()

    limits = Limits()
    if (lim := top.table("limits")) is not None:
        limits = Limits(
            subscription_reads=lim.integer("subscription_reads", limits.subscription_reads),
            subscription_reads_per_second=float(
                lim.number("subscription_reads_per_second", limits.subscription_reads_per_second)
            ),
            graph_queries=lim.integer("graph_queries", limits.graph_queries),
            graph_window_seconds=float(lim.number("graph_window_seconds", limits.graph_window_seconds)),
            deployments_page_size=lim.integer("deployments_page_size", limits.deployments_page_size),
            accounts_page_size=lim.integer("accounts_page_size", limits.accounts_page_size),
            default_quota=lim.integer("default_quota", limits.default_quota),
        )
        for key in ("subscription_reads", "deployments_page_size", "accounts_page_size", "graph_queries"):
            if getattr(limits, key) < 1:
                raise lim.fail(key, "must be at least 1")
        lim.done()

    subscriptions: list[Subscription] = []
    for t in top.tables("subscriptions"):
        sub = Subscription(
            id=t.string("id"),
            display_name=t.string("display_name", ""),
            tenant_id=t.string("tenant_id", tenant),
            state=t.choice("state", ("Enabled", "Disabled", "Warned", "PastDue", "Deleted"), "Enabled"),
            resource_groups=t.str_list("resource_groups"),
            management_groups=t.str_list("management_groups"),
            forbidden=t.parts("forbidden", SUBSCRIPTION_PARTS),
            quota_id=t.string("quota_id", "EnterpriseAgreement_2014-09-01"),
            tags=t.str_map("tags"),
        )
        sub.display_name = sub.display_name or sub.id
        if any(s.id.lower() == sub.id.lower() for s in subscriptions):
            raise t.fail("id", f"repeats subscription {sub.id!r}")
        t.done()
        subscriptions.append(sub)

    def subscription_of(t: _Table) -> str:
        if subscriptions:
            value: str = t.string("subscription", subscriptions[0].id)
            if not any(s.id.lower() == value.lower() for s in subscriptions):
                raise t.fail("subscription", f"names {value!r}, which is not in [[subscriptions]]")
            return value
        return str(t.string("subscription"))

    accounts = [_account(t, subscription_of(t), started) for t in top.tables("accounts")]
    if not accounts and not subscriptions:
        raise ValueError(f"{source}: needs at least one [[subscriptions]] or [[accounts]] entry")
    seen: set[tuple[str, str, str]] = set()
    for i, account in enumerate(accounts):
        ident = (account.subscription_id.lower(), account.resource_group.lower(), account.name.lower())
        if ident in seen:
            raise ValueError(
                f"{source}: key 'accounts[{i}].name' repeats account {account.name!r} in its resource group"
            )
        seen.add(ident)

    location_models: list[LocationModel] = []
    for t in top.tables("location_models"):
        location_models.extend(_location_models(t, started))

    usages: list[Usage] = []
    for t in top.tables("usages"):
        usages.append(
            Usage(
                subscription_id=subscription_of(t),
                location=normalize_location(t.string("location")),
                name=t.string("name"),
                limit=t.integer("limit"),
                current=t.integer("current", 0),
                unit=t.string("unit", "Count"),
                localized_name=t.string("localized_name", None),
            )
        )
        t.done()

    capacities: list[ModelCapacity] = []
    for t in top.tables("model_capacities"):
        locations = _locations(t)
        model, version = t.string("model"), t.string("version")
        fmt, sku = t.string("format", "OpenAI"), t.string("sku", "GlobalStandard")
        available, finetune = t.integer("available"), t.integer("available_finetune", 0)
        t.done()
        capacities.extend(ModelCapacity(loc, model, version, sku, available, fmt, finetune) for loc in locations)

    top.done()
    return Scenario(
        name=name,
        accounts=accounts,
        subscriptions=subscriptions,
        tenant_id=tenant,
        location_models=location_models,
        usages=usages,
        model_capacities=capacities,
        limits=limits,
        started_at=started,
    )


def _locations(t: _Table) -> list[str]:
    single = t.string("location", None)
    many = t.str_list("locations")
    if single is not None and many:
        raise t.fail("location", "and 'locations' are both set; give one")
    found = [single] if single is not None else many
    if not found:
        raise t.fail("location", "is required (or 'locations = [...]')")
    return [normalize_location(loc) for loc in found]


def _account(t: _Table, subscription_id: str, now: dt.datetime) -> Account:
    account = Account(
        name=t.string("name"),
        resource_group=t.string("resource_group"),
        subscription_id=subscription_id,
        location=normalize_location(t.string("location")),
        kind=t.string("kind", "OpenAI"),
        sku_name=t.string("sku", "S0"),
        provisioning_state=t.string("provisioning_state", "Succeeded"),
        custom_subdomain=t.string("custom_subdomain", None),
        endpoint_override=t.string("endpoint", None),
        public_network_access=t.choice("public_network_access", ("Enabled", "Disabled"), "Enabled"),
        network_default_action=t.choice("network_default_action", ("Allow", "Deny", "None"), "Allow"),
        network_bypass=t.string("network_bypass", None),
        ip_rules=t.str_list("ip_rules"),
        virtual_network_rules=t.str_list("virtual_network_rules"),
        restrict_outbound_network_access=t.boolean("restrict_outbound_network_access", False),
        allowed_fqdn_list=t.str_list("allowed_fqdn_list"),
        disable_local_auth=t.boolean("disable_local_auth", False),
        identity_type=t.choice(
            "identity", ("None", "SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"), "None"
        ),
        user_assigned_identities=t.str_list("user_assigned_identities"),
        encryption_key_source=t.choice(
            "encryption_key_source", ("Microsoft.CognitiveServices", "Microsoft.KeyVault", "None"), None
        ),
        key_vault_uri=t.string("key_vault_uri", None),
        key_name=t.string("key_name", None),
        key_version=t.string("key_version", None),
        key_identity_client_id=t.string("key_identity_client_id", None),
        tags=t.str_map("tags"),
        forbidden=t.parts("forbidden", ACCOUNT_PARTS),
    )
    if account.network_default_action == "None":
        account.network_default_action = None
    if account.encryption_key_source in (None, "None"):
        account.encryption_key_source = None if "encryption_key_source" in t.data else "Microsoft.CognitiveServices"
    if account.encryption_key_source == "Microsoft.KeyVault" and not (account.key_vault_uri and account.key_name):
        raise t.fail("encryption_key_source", "is Microsoft.KeyVault, which needs 'key_vault_uri' and 'key_name'")
    created = t.when("created", now)
    account.created_at = created or now - dt.timedelta(days=300)
    for d in t.tables("deployments"):
        deployment = Deployment(
            name=d.string("name"),
            model_name=d.string("model"),
            model_version=d.string("version"),
            model_format=d.string("format", "OpenAI"),
            sku_name=d.string("sku", "Standard"),
            capacity=d.integer("capacity", 1),
            rai_policy_name=d.string("rai_policy", None),
            version_upgrade_option=d.choice(
                "version_upgrade_option",
                ("OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade"),
                None,
            ),
            provisioning_state=d.string("provisioning_state", "Succeeded"),
            created_at=d.when("created", now) or account.created_at,
        )
        if any(x.name.lower() == deployment.name.lower() for x in account.deployments):
            raise d.fail("name", f"repeats deployment {deployment.name!r}")
        d.done()
        account.deployments.append(deployment)
    for p in t.tables("private_endpoint_connections"):
        account.private_endpoint_connections.append(
            PrivateEndpointConnection(
                name=p.string("name"),
                status=p.choice("status", ("Approved", "Pending", "Rejected", "Disconnected"), "Approved"),
                description=p.string("description", ""),
                actions_required=p.string("actions_required", "None"),
                private_endpoint_id=p.string("private_endpoint_id", None),
            )
        )
        p.done()
    for s in t.tables("diagnostic_settings"):
        setting = DiagnosticSetting(
            name=s.string("name"),
            workspace_id=s.string("workspace_id", None),
            storage_account_id=s.string("storage_account_id", None),
            event_hub_authorization_rule_id=s.string("event_hub_authorization_rule_id", None),
            event_hub_name=s.string("event_hub_name", None),
            log_analytics_destination_type=s.string("log_analytics_destination_type", None),
        )
        setting.logs.extend(LogSetting(True, category_group=g) for g in s.str_list("log_category_groups"))
        setting.logs.extend(LogSetting(True, category=c) for c in s.str_list("log_categories"))
        setting.metrics.extend(MetricSetting(c, True) for c in s.str_list("metrics"))
        for entry in s.tables("logs"):
            log = LogSetting(
                enabled=entry.boolean("enabled", True),
                category=entry.string("category", None),
                category_group=entry.string("category_group", None),
            )
            if (log.category is None) == (log.category_group is None):
                raise entry.fail("category", "or 'category_group' is needed (exactly one)")
            entry.done()
            setting.logs.append(log)
        for entry in s.tables("metric_settings"):
            metric = MetricSetting(entry.string("category", "AllMetrics"), entry.boolean("enabled", True))
            setting.metrics.append(metric)
            entry.done()
        s.done()
        account.diagnostic_settings.append(setting)
    for r in t.tables("rai_policies"):
        rai = RaiPolicy(
            name=r.string("name"),
            base_policy=r.choice("base_policy", ("Microsoft.Default", "Microsoft.DefaultV2"), "Microsoft.DefaultV2"),
            mode=r.choice("mode", ("Default", "Deferred", "Blocking", "Asynchronous_filter"), "Blocking"),
        )
        for f in r.tables("filters"):
            rai_filter: dict[str, Any] = {
                "name": f.string("name"),
                "blocking": f.boolean("blocking", True),
                "enabled": f.boolean("enabled", True),
                "source": f.choice("source", ("Prompt", "Completion")),
            }
            severity = f.choice("severity", ("Low", "Medium", "High"), None)
            if severity:
                rai_filter["severityThreshold"] = severity
            f.done()
            rai.filters.append(rai_filter)
        r.done()
        account.rai_policies.append(rai)
    t.done()
    return account


def _location_models(t: _Table, now: dt.datetime) -> list[LocationModel]:
    locations = _locations(t)
    name, version = t.string("name"), t.string("version")
    fmt = t.string("format", "OpenAI")
    replacement = t.table("replacement")
    rep_model = rep_version = None
    auto_upgrade: dt.datetime | None = None
    lead: int | None = None
    if replacement is not None:
        rep_model = replacement.string("model")
        rep_version = replacement.string("version")
        auto_upgrade = replacement.when("auto_upgrade_start", now)
        lead = replacement.integer("lead_time_days", None)
        replacement.done()
    skus: list[ModelSku] = []
    for s in t.tables("skus"):
        sku_name = s.string("name")
        capacity = s.table("capacity")
        sku = ModelSku(sku_name, s.string("usage_name", usage_name(fmt, sku_name, name)))
        if capacity is not None:
            sku.capacity_default = capacity.integer("default", None)
            sku.capacity_maximum = capacity.integer("maximum", None)
            sku.capacity_minimum = capacity.integer("minimum", None)
            sku.capacity_step = capacity.integer("step", None)
            capacity.done()
        sku.deprecation_date = s.when("deprecation", now)
        s.done()
        skus.append(sku)
    template = LocationModel(
        location="",
        name=name,
        version=version,
        format=fmt,
        kind=t.string("kind", "OpenAI"),
        lifecycle_status=t.choice(
            "lifecycle_status",
            ("GenerallyAvailable", "Preview", "Stable", "Deprecating", "Deprecated", "Legacy"),
            "GenerallyAvailable",
        ),
        is_default_version=t.boolean("is_default_version", True),
        inference_deprecation=t.when("inference", now),
        fine_tune_deprecation=t.when("fine_tune", now),
        deprecation_status=t.string("deprecation_status", None),
        replacement_model=rep_model,
        replacement_version=rep_version,
        auto_upgrade_start=auto_upgrade,
        upgrade_lead_time_days=lead,
        skus=skus,
        max_capacity=t.integer("max_capacity", 50),
        created_at=t.when("created", now),
    )
    caps = t.str_map("capabilities")
    if caps:
        template.capabilities = caps
    t.done()
    out = []
    for loc in locations:
        model = LocationModel(**{**template.__dict__, "location": loc})
        model.skus = [ModelSku(**s.__dict__) for s in template.skus]
        out.append(model)
    return out


# --- fleet:N ----------------------------------------------------------------------------------

FLEET_LOCATIONS = ("swedencentral", "eastus2", "westus3", "japaneast", "westeurope", "centralus")
# (model, version, lifecycle, inference retirement in days from now, replacement)
_FLEET_MODELS: tuple[tuple[str, str, str, int, tuple[str, str] | None], ...] = (
    ("gpt-4.1", "2025-04-14", "GenerallyAvailable", 400, None),
    ("gpt-5-mini", "2025-08-07", "GenerallyAvailable", 500, None),
    ("gpt-4o", "2024-11-20", "GenerallyAvailable", 200, ("gpt-4.1", "2025-04-14")),
    ("gpt-4o", "2024-05-13", "Deprecating", 40, ("gpt-4.1", "2025-04-14")),
    ("o4-mini", "2025-04-16", "GenerallyAvailable", 450, None),
)
_FLEET_TEAMS = ("payments", "search", "support", "analytics")


def fleet_scenario(n: int, *, now: dt.datetime | None = None) -> Scenario:
    """N accounts over 4 subscriptions and 6 locations; deterministic for a given N.

    Roughly a third of the accounts are ready; the others fail one or more areas (region, public
    access, pending private endpoint, missing logs, key auth, no identity, retiring model, quota).
    """
    started = (now or dt.datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(f"aoai-fleet:{n}")
    subs = [
        Subscription(
            id=f"00000000-0000-0000-0000-0000000f{i:04d}",
            display_name=f"fleet-{_FLEET_TEAMS[i - 1]}",
            management_groups=["mg-ai-platform"] if i <= 2 else ["mg-ai-sandbox"],
        )
        for i in range(1, 5)
    ]
    accounts: list[Account] = []
    for i in range(n):
        sub = subs[i % 4]
        team = _FLEET_TEAMS[i % 4]
        ready = rng.random() < 0.35
        location = FLEET_LOCATIONS[rng.randrange(4)] if ready else rng.choice(FLEET_LOCATIONS)
        name = f"aoai-fleet-{i + 1:04d}"
        env = rng.choice(("prod", "prod", "dev", "test"))
        kind = rng.choice(("OpenAI", "AIServices"))
        account = Account(
            name=name,
            resource_group=f"rg-{team}-{env}",
            subscription_id=sub.id,
            location=location,
            kind=kind,
            custom_subdomain=name if ready or rng.random() < 0.85 else None,
            tags={"env": env, "team": team},
            created_at=started - dt.timedelta(days=rng.randrange(30, 900)),
        )
        public_closed = ready or rng.random() < 0.5
        account.public_network_access = "Disabled" if public_closed else "Enabled"
        account.network_default_action = "Deny" if public_closed else "Allow"
        account.restrict_outbound_network_access = ready or rng.random() < 0.3
        if ready or rng.random() < 0.6:
            status = "Approved" if ready or rng.random() < 0.6 else "Pending"
            account.private_endpoint_connections.append(
                PrivateEndpointConnection(f"pe-{name}", status, "Auto-Approved" if status == "Approved" else "")
            )
        if ready or rng.random() < 0.55:
            complete = ready or rng.random() < 0.7
            account.diagnostic_settings.append(
                DiagnosticSetting(
                    name="to-law",
                    workspace_id=f"/subscriptions/{sub.id}/resourceGroups/rg-monitor/providers/"
                    "Microsoft.OperationalInsights/workspaces/law-ai",
                    logs=[LogSetting(complete, category_group="allLogs")],
                    metrics=[MetricSetting("AllMetrics", True)],
                )
            )
        account.disable_local_auth = ready or rng.random() < 0.5
        if ready or rng.random() < 0.6:
            account.identity_type = "SystemAssigned"
        choices = [m for m in _FLEET_MODELS if not ready or m[2] != "Deprecating"]
        picked = rng.sample(choices, rng.randint(1, 3))
        for j, (model, version, _life, _days, _rep) in enumerate(picked):
            sku = "Standard" if model == "gpt-4o" and version == "2024-05-13" else "GlobalStandard"
            account.deployments.append(
                Deployment(
                    name=("chat", "assistant", "batch")[j] if model != "gpt-5-mini" else "reasoner",
                    model_name=model,
                    model_version=version,
                    sku_name=sku,
                    capacity=rng.choice((10, 20, 50, 100)),
                    rai_policy_name="Microsoft.DefaultV2" if ready or rng.random() < 0.7 else None,
                    version_upgrade_option="OnceNewDefaultVersionAvailable"
                    if ready
                    else rng.choice(("OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade")),
                    created_at=account.created_at,
                )
            )
        names = [d.name for d in account.deployments]
        for j, d in enumerate(account.deployments):  # keep names unique within the account
            if names.count(d.name) > 1:
                d.name = f"{d.name}-{j + 1}"
        accounts.append(account)

    models: list[LocationModel] = []
    for location in FLEET_LOCATIONS:
        for model, version, lifecycle, days, rep in _FLEET_MODELS:
            skus = [
                ModelSku(s, usage_name("OpenAI", s, model), 50, 1000 if s == "GlobalStandard" else 300, 1, 1)
                for s in ("GlobalStandard", "Standard")
            ]
            models.append(
                LocationModel(
                    location=location,
                    name=model,
                    version=version,
                    lifecycle_status=lifecycle,
                    is_default_version=lifecycle != "Deprecating",
                    inference_deprecation=started + dt.timedelta(days=days),
                    deprecation_status="Planned" if lifecycle == "Deprecating" else None,
                    replacement_model=rep[0] if rep else None,
                    replacement_version=rep[1] if rep else None,
                    upgrade_lead_time_days=7 if rep else None,
                    skus=skus,
                )
            )
    usages: list[Usage] = []
    tmp = Scenario("tmp", accounts, [Subscription(s.id, s.display_name) for s in subs], started_at=started)
    for sub in subs:
        for location in FLEET_LOCATIONS:
            for usage in tmp.usages_in(sub.id, location):
                # Some subscriptions run close to their quota: headroom below 10%.
                tight = rng.random() < 0.2
                usage.limit = usage.current + max(1, usage.current // 20) if tight else 1000
                usages.append(usage)
    capacities = [
        ModelCapacity(location, model, version, sku, rng.choice((0, 500, 2000, 5000)))
        for location in FLEET_LOCATIONS
        for model, version, _life, _days, _rep in _FLEET_MODELS
        for sku in ("GlobalStandard", "Standard")
    ]
    return Scenario(
        name=f"fleet:{n}",
        accounts=accounts,
        subscriptions=subs,
        location_models=models,
        usages=usages,
        model_capacities=capacities,
        started_at=started,
    )
