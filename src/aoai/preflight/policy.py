"""The gate policy: what "ready" means for one application (``aoai.toml``, table ``[preflight]``).

A policy names the account (optional; flags may give it), the deployments the application
calls (name, and optionally model, version, SKU and minimum capacity), the thresholds, which
checks run, whether customer-managed keys are required, catalog additions, and waivers.
Flags override file values. Every problem in the file is a usage error naming the key and,
where it can be found, the line — a gate must never run on a policy it half understood.

Example::

    [preflight]
    subscription = "00000000-0000-0000-0000-000000000001"
    resource_group = "rg-aoai-demo"
    account = "aoai-ready"            # or: resource_id = "/subscriptions/…/accounts/aoai-ready"
    fail_on = "fail"                  # or "warn"
    only = []                         # check ids, id prefixes or areas
    skip = ["AOAI403"]
    require_cmk = false

    [preflight.thresholds]
    retirement_days = 90
    min_quota_headroom = 10           # percent of the quota limit left free

    [[preflight.deployments]]
    name = "chat"
    model = "gpt-4.1"
    version = "2025-04-14"
    sku = "GlobalStandard"
    min_capacity = 50

    [preflight.content_filters]      # AOAI208
    max_severity = "medium"           # loosest allowed threshold: "low", "medium" or "high"
    require_prompt_shield = true      # jailbreak detection enabled and blocking on prompts
    allow_asynchronous = false        # mode Asynchronous_filter allowed

    [preflight.catalog]
    extra_regions = ["westeurope"]
    extra_models = ["gpt-6@2026-10-01"]

    [[preflight.waivers]]
    check = "AOAI403"
    deployment = "chat"               # optional: only findings about this deployment
    reason = "egress proxy enforced at the VNet"
    expires = 2027-01-31
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from aoai.config import check_regular_file, read_toml, unknown_key_message
from aoai.errors import UsageError
from aoai.preflight.catalog import Catalog, ModelEntry
from aoai.preflight.catalog import load as load_catalog
from aoai.preflight.report import FailOn, Finding, Status

DEFAULT_POLICY_FILE = "aoai.toml"
DEFAULT_RETIREMENT_DAYS = 90
DEFAULT_MIN_QUOTA_HEADROOM = 10.0

_TOP_KEYS = {
    "subscription",
    "resource_group",
    "account",
    "resource_id",
    "fail_on",
    "only",
    "skip",
    "require_cmk",
    "thresholds",
    "content_filters",
    "deployments",
    "catalog",
    "waivers",
}
_THRESHOLD_KEYS = {"retirement_days", "min_quota_headroom"}
_DEPLOYMENT_KEYS = {"name", "model", "version", "sku", "min_capacity"}
_CATALOG_KEYS = {"regions", "extra_regions", "models", "extra_models"}
_WAIVER_KEYS = {"check", "deployment", "reason", "expires"}
_CONTENT_FILTER_KEYS = {"max_severity", "require_prompt_shield", "allow_asynchronous"}
SEVERITY_LEVELS = ("Low", "Medium", "High")  # a content filter's severityThreshold, strictest first


@dataclass(frozen=True)
class ContentFilterGate:
    """What AOAI208 requires of each deployment's content filter policy."""

    max_severity: str = "Medium"  # the loosest severityThreshold allowed (Low blocks the most)
    require_prompt_shield: bool = True
    allow_asynchronous: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_severity": self.max_severity,
            "require_prompt_shield": self.require_prompt_shield,
            "allow_asynchronous": self.allow_asynchronous,
        }


_CHECK_ID = re.compile(r"^AOAI\d{3}$")


@dataclass(frozen=True)
class RequiredDeployment:
    """A deployment the application calls, by the name it uses."""

    name: str
    model: str | None = None
    version: str | None = None
    sku: str | None = None
    min_capacity: int | None = None

    @classmethod
    def parse_flag(cls, text: str) -> RequiredDeployment:
        """``NAME[=MODEL[@VERSION]]`` (the ``--deployment`` flag)."""
        name, _, model_part = text.strip().partition("=")
        model, _, version = model_part.partition("@")
        if not name.strip() or ("=" in text and not model.strip()) or ("@" in model_part and not version.strip()):
            raise UsageError(
                f"bad --deployment {text!r}",
                hint="use NAME, NAME=MODEL or NAME=MODEL@VERSION, e.g. chat=gpt-4.1@2025-04-14",
            )
        return cls(name.strip(), model.strip() or None, version.strip() or None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "version": self.version,
            "sku": self.sku,
            "min_capacity": self.min_capacity,
        }

    def describe(self) -> str:
        text = self.name
        if self.model:
            text += f"={self.model}" + (f"@{self.version}" if self.version else "")
        return text


@dataclass(frozen=True)
class Waiver:
    """Accept a finding for a while: its status becomes ``waived`` until ``expires`` (inclusive)."""

    check: str
    reason: str
    deployment: str | None = None
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: Finding) -> bool:
        if finding.check != self.check:
            return False
        return self.deployment is None or finding.resource == self.deployment

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "deployment": self.deployment,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass(frozen=True)
class TargetSpec:
    """The target as the policy file (or flags) named it; any field may be missing."""

    subscription: str | None = None
    resource_group: str | None = None
    account: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Policy:
    deployments: tuple[RequiredDeployment, ...] = ()
    retirement_days: int = DEFAULT_RETIREMENT_DAYS
    min_quota_headroom: float = DEFAULT_MIN_QUOTA_HEADROOM
    fail_on: FailOn = FailOn.FAIL
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    require_cmk: bool = False
    content_filters: ContentFilterGate = field(default_factory=ContentFilterGate)
    waivers: tuple[Waiver, ...] = ()
    catalog: Catalog = field(default_factory=load_catalog)
    source: str | None = None  # the policy file it came from, if any
    source_sha256: str | None = field(default=None, compare=False)  # of the file's bytes, for the evidence
    target: TargetSpec = field(default_factory=TargetSpec)

    def required(self, name: str) -> RequiredDeployment | None:
        for item in self.deployments:
            if item.name == name:
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        """The resolved policy (what the gate actually applied), for the evidence."""
        data: dict[str, Any] = {
            "source": self.source,
            "deployments": [d.to_dict() for d in self.deployments],
            "retirement_days": self.retirement_days,
            "min_quota_headroom": self.min_quota_headroom,
            "fail_on": self.fail_on.value,
            "only": list(self.only),
            "skip": list(self.skip),
            "require_cmk": self.require_cmk,
            "waivers": [w.to_dict() for w in self.waivers],
            "catalog_overrides": self.catalog.overrides,
        }
        # Only when not the defaults: evidence written before these settings keeps its policy hash.
        if self.content_filters != ContentFilterGate():
            data["content_filters"] = self.content_filters.to_dict()
        return data

    def sha256(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], catalog: Catalog) -> Policy:
        """Rebuild a resolved policy (``to_dict`` output) with the catalog the run used."""
        return cls(
            deployments=tuple(RequiredDeployment(**d) for d in data.get("deployments", [])),
            retirement_days=int(data.get("retirement_days", DEFAULT_RETIREMENT_DAYS)),
            min_quota_headroom=float(data.get("min_quota_headroom", DEFAULT_MIN_QUOTA_HEADROOM)),
            fail_on=FailOn(data.get("fail_on", "fail")),
            only=tuple(data.get("only", [])),
            skip=tuple(data.get("skip", [])),
            require_cmk=bool(data.get("require_cmk", False)),
            content_filters=ContentFilterGate(**data.get("content_filters", {})),
            waivers=tuple(
                Waiver(
                    check=w["check"],
                    reason=w["reason"],
                    deployment=w.get("deployment"),
                    expires=date.fromisoformat(w["expires"]) if w.get("expires") else None,
                )
                for w in data.get("waivers", [])
            ),
            catalog=catalog,
            source=data.get("source"),
        )


def apply_waivers(findings: list[Finding], waivers: Sequence[Waiver], today: date) -> list[str]:
    """Mark matching ``fail``/``warn`` findings ``waived`` (in place). An ``error`` is never
    waived: it means the check could not be evaluated. Returns notes (expired, unused waivers)."""
    notes: list[str] = []
    for waiver in waivers:
        label = waiver.check + (f" (deployment {waiver.deployment})" if waiver.deployment else "")
        if waiver.expired(today):
            assert waiver.expires is not None
            notes.append(f"waiver for {label} expired on {waiver.expires.isoformat()} and no longer applies")
            continue
        used = False
        for item in findings:
            if waiver.matches(item) and item.status in (Status.FAIL, Status.WARN):
                item.waiver = {**waiver.to_dict(), "original_status": item.status.value}
                item.status = Status.WAIVED
                used = True
        if not used:
            notes.append(f"waiver for {label} matched no failing or warning finding")
    return notes


# --------------------------------------------------------------------------------------------
# Loading the file


class _Locator:
    """Finds the line of a key in a TOML text (tomllib reports lines only for syntax errors)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[str, int | None, str | None, int]] = []  # (table, index, key, line)
        table, index = "", None
        counts: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(2).replace(" ", "")
                if header.group(1) == "[[":
                    index = counts.get(table, 0)
                    counts[table] = index + 1
                else:
                    index = None
                self.entries.append((table, index, None, number))
                continue
            key = self._KEY.match(line)
            if key:
                self.entries.append((table, index, key.group(1).strip('"'), number))

    def exact(self, table: str, key: str | None = None, index: int | None = None) -> int | None:
        for entry_table, entry_index, entry_key, number in self.entries:
            if entry_table == table and entry_key == key and (index is None or entry_index == index):
                return number
        return None

    def line(self, table: str, key: str | None = None, index: int | None = None) -> int | None:
        fallback = None
        for entry_table, entry_index, entry_key, number in self.entries:
            if entry_table != table or (index is not None and entry_index != index):
                continue
            if entry_key == key:
                return number
            if entry_key is None and fallback is None:
                fallback = number
        if fallback is None and "." in table:
            # No header of its own: an inline form (`deployments = [...]`) under the parent table.
            parent, _, child = table.rpartition(".")
            return self.line(parent, child)
        return fallback


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.locator = _Locator(text)

    def error(
        self, where: str, message: str, table: str, key: str | None = None, index: int | None = None
    ) -> UsageError:
        line = None
        if key is not None:
            # The key's own line, or the header of a sub-table of that name (``[preflit]``).
            line = self.locator.exact(table, key, index) or self.locator.exact(f"{table}.{key}" if table else key)
        line = line or self.locator.line(table, key, index)
        location = f"{self.path}:{line}" if line else str(self.path)
        return UsageError(f"{location}: {where}: {message}", hint="fix the policy file (see docs/preflight.md)")

    def check_keys(self, data: Mapping[str, Any], allowed: set[str], table: str, index: int | None = None) -> None:
        for key in data:
            if key not in allowed:
                where = (table + (f"[{index}]" if index is not None else "") + ".") if table else ""
                raise self.error(where + key, unknown_key_message(key, allowed), table, key, index)

    def string(self, data: Mapping[str, Any], key: str, table: str, index: int | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            where = table + (f"[{index}]" if index is not None else "") + f".{key}"
            raise self.error(where, f"must be a non-empty string, not {value!r}", table, key, index)
        return value.strip()

    def strings(self, data: Mapping[str, Any], key: str, table: str) -> list[str] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(f"{table}.{key}", "must be a list of strings", table, key)
        return [v.strip() for v in value]

    def number(
        self, data: Mapping[str, Any], key: str, table: str, *, integer: bool, index: int | None = None
    ) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not math.isfinite(value) or value < 0:
            kind = "a non-negative integer" if integer else "a non-negative number"
            where = table + (f"[{index}]" if index is not None else "") + f".{key}"
            raise self.error(where, f"must be {kind}, not {value!r}", table, key, index)
        return float(value)


@dataclass(frozen=True)
class PolicyFile:
    """What the file said (before flags)."""

    path: Path | None
    policy: Policy


def find_policy_file(config: str | None, cwd: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """``--config`` (must exist), else ``./aoai.toml`` when anything by that name is there, else None.

    Something named ``aoai.toml`` that is not a readable file (a directory, a dangling link) is
    refused, never skipped: the gate must not quietly run on the default policy.
    """
    if config:
        path = Path(config).expanduser()
        if not path.is_absolute():
            path = cwd / path
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"policy file {config} does not exist", hint="fix --config")
    else:
        path = cwd / DEFAULT_POLICY_FILE
        if not path.exists() and not path.is_symlink():
            return None
    check_regular_file(path, "policy file")
    return path


def load_policy_file(path: Path | None) -> PolicyFile:
    """Parse ``[preflight]`` of ``path`` into a Policy (defaults where the file is silent)."""
    if path is None:
        return PolicyFile(None, Policy())
    data, text, document = read_toml(path, "policy file")
    reader = _Reader(path, text)
    reader.check_keys(document, {"preflight"}, "")
    section = document.get("preflight", {})
    if not isinstance(section, dict):
        raise reader.error("preflight", "must be a table ([preflight])", "", "preflight")
    policy = replace(_parse_section(reader, section, str(path)), source_sha256=hashlib.sha256(data).hexdigest())
    return PolicyFile(path, policy)


def _parse_section(reader: _Reader, section: Mapping[str, Any], source: str) -> Policy:
    from aoai.preflight.checks import validate_selectors

    table = "preflight"
    reader.check_keys(section, _TOP_KEYS, table)
    target = TargetSpec(
        subscription=reader.string(section, "subscription", table),
        resource_group=reader.string(section, "resource_group", table),
        account=reader.string(section, "account", table),
        resource_id=reader.string(section, "resource_id", table),
    )
    fail_on_text = reader.string(section, "fail_on", table) or "fail"
    if fail_on_text not in {f.value for f in FailOn}:
        raise reader.error(f"{table}.fail_on", f"must be 'fail' or 'warn', not {fail_on_text!r}", table, "fail_on")
    only = reader.strings(section, "only", table) or []
    skip = reader.strings(section, "skip", table) or []
    for key, values in (("only", only), ("skip", skip)):
        try:
            validate_selectors(values)
        except UsageError as exc:
            raise reader.error(f"{table}.{key}", exc.message, table, key) from exc
    require_cmk = section.get("require_cmk", False)
    if not isinstance(require_cmk, bool):
        raise reader.error(f"{table}.require_cmk", "must be true or false", table, "require_cmk")

    thresholds = section.get("thresholds", {})
    t_table = "preflight.thresholds"
    if not isinstance(thresholds, dict):
        raise reader.error(t_table, "must be a table", table, "thresholds")
    reader.check_keys(thresholds, _THRESHOLD_KEYS, t_table)
    retirement = reader.number(thresholds, "retirement_days", t_table, integer=True)
    headroom = reader.number(thresholds, "min_quota_headroom", t_table, integer=False)
    if headroom is not None and headroom > 100:
        raise reader.error(f"{t_table}.min_quota_headroom", "is a percentage (0-100)", t_table, "min_quota_headroom")

    return Policy(
        content_filters=_parse_content_filters(reader, section.get("content_filters", {})),
        deployments=tuple(_parse_deployments(reader, section.get("deployments", []))),
        retirement_days=int(retirement) if retirement is not None else DEFAULT_RETIREMENT_DAYS,
        min_quota_headroom=headroom if headroom is not None else DEFAULT_MIN_QUOTA_HEADROOM,
        fail_on=FailOn(fail_on_text),
        only=tuple(only),
        skip=tuple(skip),
        require_cmk=require_cmk,
        waivers=tuple(_parse_waivers(reader, section.get("waivers", []))),
        catalog=_parse_catalog(reader, section.get("catalog", {})),
        source=source,
        target=target,
    )


def _parse_content_filters(reader: _Reader, data: Any) -> ContentFilterGate:
    table = "preflight.content_filters"
    if not isinstance(data, dict):
        raise reader.error(table, "must be a table", "preflight", "content_filters")
    reader.check_keys(data, _CONTENT_FILTER_KEYS, table)
    severity = reader.string(data, "max_severity", table) or "medium"
    level = next((s for s in SEVERITY_LEVELS if s.lower() == severity.lower()), None)
    if level is None:
        raise reader.error(
            f"{table}.max_severity", f"must be low, medium or high, not {severity!r}", table, "max_severity"
        )
    flags = {}
    for key in ("require_prompt_shield", "allow_asynchronous"):
        value = data.get(key, getattr(ContentFilterGate(), key))
        if not isinstance(value, bool):
            raise reader.error(f"{table}.{key}", "must be true or false", table, key)
        flags[key] = value
    return ContentFilterGate(max_severity=level, **flags)


def _parse_deployments(reader: _Reader, items: Any) -> list[RequiredDeployment]:
    table = "preflight.deployments"
    if not isinstance(items, list):
        raise reader.error(table, "must be an array of tables ([[preflight.deployments]])", "preflight", "deployments")
    result: list[RequiredDeployment] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise reader.error(f"{table}[{index}]", "must be a table", table, None, index)
        reader.check_keys(item, _DEPLOYMENT_KEYS, table, index)
        name = reader.string(item, "name", table, index)
        if name is None:
            raise reader.error(f"{table}[{index}]", "needs a name", table, None, index)
        if any(d.name == name for d in result):
            raise reader.error(f"{table}[{index}].name", f"deployment {name!r} is listed twice", table, "name", index)
        capacity = reader.number(item, "min_capacity", table, integer=True, index=index)
        version = item.get("version")
        if isinstance(version, int | float) and not isinstance(version, bool):
            version = str(version)  # e.g. version = 0613 written without quotes
        result.append(
            RequiredDeployment(
                name=name,
                model=reader.string(item, "model", table, index),
                version=reader.string({"version": version}, "version", table, index),
                sku=reader.string(item, "sku", table, index),
                min_capacity=int(capacity) if capacity is not None else None,
            )
        )
    return result


def _parse_waivers(reader: _Reader, items: Any) -> list[Waiver]:
    table = "preflight.waivers"
    if not isinstance(items, list):
        raise reader.error(table, "must be an array of tables ([[preflight.waivers]])", "preflight", "waivers")
    result: list[Waiver] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise reader.error(f"{table}[{index}]", "must be a table", table, None, index)
        reader.check_keys(item, _WAIVER_KEYS, table, index)
        check_id = reader.string(item, "check", table, index)
        if check_id is None or not _CHECK_ID.match(check_id):
            raise reader.error(f"{table}[{index}].check", "needs a check id such as AOAI403", table, "check", index)
        from aoai.preflight.checks import all_checks

        if check_id not in all_checks():
            raise reader.error(f"{table}[{index}].check", f"unknown check {check_id}", table, "check", index)
        reason = reader.string(item, "reason", table, index)
        if reason is None:
            raise reader.error(f"{table}[{index}].reason", "a waiver needs a reason", table, "reason", index)
        raw = item.get("expires")
        expires: date | None
        if raw is None:
            expires = None
        elif isinstance(raw, datetime):
            expires = raw.date()
        elif isinstance(raw, date):
            expires = raw
        elif isinstance(raw, str):
            try:
                expires = date.fromisoformat(raw.strip())
            except ValueError:
                raise reader.error(
                    f"{table}[{index}].expires", f"not a date (YYYY-MM-DD): {raw!r}", table, "expires", index
                ) from None
        else:
            raise reader.error(f"{table}[{index}].expires", "must be a date (YYYY-MM-DD)", table, "expires", index)
        result.append(Waiver(check_id, reason, reader.string(item, "deployment", table, index), expires))
    return result


def _parse_catalog(reader: _Reader, data: Any) -> Catalog:
    table = "preflight.catalog"
    base = load_catalog()
    if not isinstance(data, dict):
        raise reader.error(table, "must be a table", "preflight", "catalog")
    reader.check_keys(data, _CATALOG_KEYS, table)
    lists = {key: reader.strings(data, key, table) for key in sorted(_CATALOG_KEYS)}
    for key in ("models", "extra_models"):
        for text in lists[key] or []:
            try:
                ModelEntry.parse(text)
            except ValueError as exc:
                raise reader.error(f"{table}.{key}", str(exc), table, key) from exc
    if not any(v is not None for v in lists.values()):
        return base
    return base.with_overrides(
        regions=lists["regions"],
        extra_regions=lists["extra_regions"],
        models=lists["models"],
        extra_models=lists["extra_models"],
    )


# --------------------------------------------------------------------------------------------
# Flags over the file


@dataclass(frozen=True)
class PolicyFlags:
    deployments: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    fail_on: str | None = None
    retirement_days: int | None = None
    min_quota_headroom: float | None = None
    require_cmk: bool | None = None


def merge_flags(policy: Policy, flags: PolicyFlags) -> Policy:
    """Flags override the file. ``--deployment`` replaces the file's list; an entry with the same
    name keeps the file's details (SKU, minimum capacity, and model/version the flag omits)."""
    from aoai.preflight.checks import validate_selectors

    changes: dict[str, Any] = {}
    if flags.deployments:
        merged: list[RequiredDeployment] = []
        for text in flags.deployments:
            flag = RequiredDeployment.parse_flag(text)
            if any(d.name == flag.name for d in merged):
                raise UsageError(f"--deployment {flag.name} given twice")
            base = policy.required(flag.name)
            if base is not None:
                flag = replace(base, model=flag.model or base.model, version=flag.version or base.version)
            merged.append(flag)
        changes["deployments"] = tuple(merged)
    if flags.only:
        validate_selectors(flags.only, option="--only")
        changes["only"] = tuple(flags.only)
    if flags.skip:
        validate_selectors(flags.skip, option="--skip")
        changes["skip"] = tuple(flags.skip)
    if flags.fail_on is not None:
        if flags.fail_on not in {f.value for f in FailOn}:
            raise UsageError(f"--fail-on must be 'fail' or 'warn', not {flags.fail_on!r}")
        changes["fail_on"] = FailOn(flags.fail_on)
    if flags.retirement_days is not None:
        if flags.retirement_days < 0:
            raise UsageError("--retirement-days must not be negative")
        changes["retirement_days"] = flags.retirement_days
    if flags.min_quota_headroom is not None:
        if not 0 <= flags.min_quota_headroom <= 100:
            raise UsageError("--min-quota-headroom is a percentage (0-100)")
        changes["min_quota_headroom"] = float(flags.min_quota_headroom)
    if flags.require_cmk is not None:
        changes["require_cmk"] = flags.require_cmk
    return replace(policy, **changes)


def load_policy(config: str | None, flags: PolicyFlags | None, cwd: Path, env: Mapping[str, str]) -> Policy:
    """The policy file (``--config``, else ./aoai.toml when present) with the flags over it."""
    return merge_flags(load_policy_file(find_policy_file(config, cwd, env)).policy, flags or PolicyFlags())
