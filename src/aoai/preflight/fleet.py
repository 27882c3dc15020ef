"""Check every Azure OpenAI / AI Services account in a scope: ``aoai preflight fleet``.

The plan, and why it scales to hundreds of accounts (docs/fleet.md):

1. **Discovery is one Azure Resource Graph query** (``type =~ 'microsoft.cognitiveservices/accounts'``,
   kind OpenAI or AIServices, plus the user's ``--where``), scoped to ``--subscription``s, a
   ``--management-group`` or every subscription the credential can read, paged with
   ``$skipToken``. A row is the whole account resource, ``properties`` included, so the
   ``account`` part — and the private endpoint connections it embeds — come from the row: no GET
   per account. Such a part records Graph's operation (``Resources``), api-version and the
   ``x-ms-request-id`` of the page that held the row.
2. **Only what the selected checks need is read per account** (deployments, diagnostic settings;
   private endpoint connections only when a row lacks them), and **location data once per
   (subscription, location)** (models, usages), all on one pool of ``concurrency`` workers.
   Requests grow with the accounts only for per-account parts.
3. **Throttling:** azure-core's retry policy retries 429 (honouring ``Retry-After``) and 5xx;
   ``ReadGovernor`` reads ``x-ms-ratelimit-remaining-subscription-reads`` from every answer and
   paces the requests to a subscription whose remaining reads drop under ``2 × concurrency``,
   so a large fleet slows down before ARM answers 429 rather than after.
4. **Evaluation is the engine's** (``build_report``): an account's findings are exactly what
   ``aoai preflight run`` finds for it, and the evidence embeds every account's snapshot, so
   ``aoai preflight verify`` re-evaluates a fleet document like a single-account one.

No rendering here: progress is reported through the ``FleetProgress`` protocol; the CLI draws it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aoai.errors import AoaiError, NotFoundError, UsageError
from aoai.preflight.arm import (
    ACCOUNT_SCOPED_PARTS,
    MONITOR_PARTS,
    RESOURCE_GRAPH_API_VERSION,
    ArmReader,
    GraphPage,
    query_resource_graph,
)
from aoai.preflight.engine import RunOutcome, Selection, build_report, parts_for
from aoai.preflight.snapshot import (
    LOCATION_PARTS,
    AccountSnapshot,
    Part,
    PartError,
    PartName,
    Target,
    format_time,
    utc_now,
)

if TYPE_CHECKING:
    from aoai.config import ArmSettings
    from aoai.preflight.policy import Policy, PolicyFlags
    from aoai.preflight.waits import WaitBudget

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
GRAPH_PAGE_SIZE = 1000  # Resource Graph's largest $top
FLEET_RETRY_TOTAL = 5  # a fleet meets throttling more often than one account does
# The Resource Graph REST operation id (POST /providers/Microsoft.ResourceGraph/resources).
GRAPH_OPERATION = "Resources"
RATE_LIMIT_HEADER = "x-ms-ratelimit-remaining-subscription-reads"

# The columns the checks need; the emulator ignores `project`, Azure honours it.
PROJECTED_COLUMNS = (
    "id",
    "name",
    "type",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "tenantId",
    "sku",
    "identity",
    "properties",
    "tags",
)
# The columns that are the ARM resource itself (what Accounts_Get returns); the others are Graph's.
_RESOURCE_COLUMNS = ("id", "name", "type", "kind", "location", "sku", "identity", "properties", "tags")
# Account-scoped parts the rows may already hold (property name in the account's `properties`).
_ROW_PARTS = {PartName.PRIVATE_ENDPOINT_CONNECTIONS: "privateEndpointConnections"}

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SUBSCRIPTION_IN_URL = re.compile(r"/subscriptions/([^/?#]+)", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# The query


def check_where(text: str) -> str:
    """A ``--where`` predicate, stripped; UsageError when it is empty, unbalanced, or a pipeline.

    The predicate is appended as ``| where (PREDICATE)``: a ``|`` outside a string would let it
    add operators (``| project``, ``| take``) that change which rows and columns come back.
    """
    predicate = text.strip()
    if not predicate:
        raise UsageError("--where is empty", hint="give a KQL predicate, e.g. --where \"tags.env == 'prod'\"")
    quote: str | None = None
    verbatim = escaped = False
    depth = 0
    previous = ""
    for char in predicate:
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\" and not verbatim:
                escaped = True
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote, verbatim = char, previous == "@"  # @'…' is a verbatim string: no escapes
        elif char == "|":
            raise UsageError(
                f"--where takes a predicate, not a pipeline: {predicate!r}",
                hint="e.g. --where \"tags.env == 'prod' and location =~ 'swedencentral'\"; repeat --where to AND more",
            )
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                break
        previous = char
    if quote is not None:
        raise UsageError(f"--where has an unterminated string: {predicate!r}")
    if depth != 0:
        raise UsageError(f"--where has unbalanced parentheses: {predicate!r}")
    return predicate


def build_query(where: Sequence[str] = ()) -> str:
    """The one discovery query: accounts of kind OpenAI / AIServices, narrowed by each ``--where``,
    projected to the columns the checks read, ordered by id (stable pages)."""
    lines = [
        "Resources",
        "| where type =~ 'microsoft.cognitiveservices/accounts'",
        "| where kind in~ ('OpenAI', 'AIServices')",
    ]
    lines += [f"| where ({check_where(predicate)})" for predicate in where]
    lines += [f"| project {', '.join(PROJECTED_COLUMNS)}", "| order by id asc"]
    return "\n".join(lines)


@dataclass(frozen=True)
class FleetScope:
    """Where Resource Graph looks: subscriptions, management groups, or (neither) every
    subscription the credential can read."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.subscriptions:
            return f"subscription(s) {', '.join(self.subscriptions)}"
        if self.management_groups:
            return f"management group(s) {', '.join(self.management_groups)}"
        return "every subscription the credential can read"


# ---------------------------------------------------------------------------------------------
# Options -> prepared run (no network)


@dataclass(frozen=True)
class FleetOptions:
    """Everything ``aoai preflight fleet`` was given."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    concurrency: int = DEFAULT_CONCURRENCY
    arm_endpoint: str | None = None
    cloud: str | None = None
    credential: str | None = None
    ca_bundle: str | None = None
    config: str | None = None
    flags: PolicyFlags | None = None


@dataclass(frozen=True)
class FleetPrepared:
    scope: FleetScope
    query: str
    where: tuple[str, ...]
    policy: Policy
    selection: Selection
    settings: ArmSettings
    concurrency: int = DEFAULT_CONCURRENCY


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return tuple(seen.values())


def prepare(options: FleetOptions, env: Mapping[str, str], cwd: Path) -> FleetPrepared:
    """Validate the scope, ``--where`` and ``--concurrency``; resolve policy file + flags,
    selection and ARM settings. Every problem is a UsageError (exit 2); nothing is sent.

    The policy file's target (subscription / group / account) names one account and is ignored:
    the fleet's accounts are the query's."""
    from aoai.preflight import connection_settings
    from aoai.preflight.policy import load_policy

    subscriptions = _unique(s.strip() for s in options.subscriptions)
    groups = _unique(g.strip() for g in options.management_groups)
    if subscriptions and groups:
        raise UsageError("give --subscription or --management-group, not both")
    for subscription in subscriptions:
        if not _GUID.match(subscription):
            raise UsageError(
                f"--subscription {subscription!r} is not a subscription id",
                hint="give the GUID (`az account list -o table` shows them)",
            )
    if any(not g for g in groups):
        raise UsageError("--management-group is empty")
    if not 1 <= options.concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be from 1 to {MAX_CONCURRENCY}, not {options.concurrency}")
    where = tuple(check_where(w) for w in options.where)
    policy = load_policy(options.config, options.flags, cwd, env)
    settings = connection_settings(options, env)
    selection = Selection.build(policy)
    return FleetPrepared(
        scope=FleetScope(subscriptions, groups),
        query=build_query(where),
        where=where,
        policy=policy,
        selection=selection,
        settings=settings,
        concurrency=options.concurrency,
    )


# ---------------------------------------------------------------------------------------------
# Throttling: pace requests before ARM's read budget runs out


class ReadGovernor:
    """Watches ``x-ms-ratelimit-remaining-subscription-reads`` and paces a subscription's requests
    when its budget runs low.

    ARM meters reads per subscription as a token bucket (250, refilled at 25 per second) and says
    what is left on every answer. Once a subscription's last answer showed fewer than
    ``threshold`` reads left (``2 × concurrency`` by default: one more round of every worker
    would empty it), each request to it first waits ``max_pause × (1 − remaining / threshold)``
    — longer the closer to zero — so the workers' rate drops under the refill rate. A 429 that
    still comes is retried by azure-core after its ``Retry-After``. Thread-safe.
    """

    def __init__(
        self,
        threshold: int,
        *,
        max_pause: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.threshold = threshold
        self.max_pause = max_pause
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining: dict[str, int] = {}
        self.lowest: dict[str, int] = {}
        self.pauses = 0
        self.paused_seconds = 0.0

    @staticmethod
    def subscription_of(url: str) -> str | None:
        match = _SUBSCRIPTION_IN_URL.search(url)
        return match.group(1).lower() if match else None

    def delay_for(self, url: str) -> float:
        """How long a request to ``url`` should wait now (0 when the budget is healthy)."""
        key = self.subscription_of(url)
        if key is None or self.threshold <= 0:
            return 0.0
        with self._lock:
            remaining = self._remaining.get(key)
        if remaining is None or remaining >= self.threshold:
            return 0.0
        return self.max_pause * (1 - max(remaining, 0) / self.threshold)

    def before(self, url: str) -> None:
        delay = self.delay_for(url)
        if delay > 0:
            with self._lock:
                self.pauses += 1
                self.paused_seconds += delay
            log.debug("pacing %s: %.2f s (reads remaining low)", self.subscription_of(url), delay)
            self._sleep(delay)

    def after(self, url: str, headers: Mapping[str, str]) -> None:
        key = self.subscription_of(url)
        value = headers.get(RATE_LIMIT_HEADER)
        if key is None or value is None:
            return
        try:
            remaining = int(value)
        except ValueError:
            return
        with self._lock:
            self._remaining[key] = remaining
            self.lowest[key] = min(self.lowest.get(key, remaining), remaining)


def _governed_transport(governor: ReadGovernor, pool_size: int, client_kwargs: Mapping[str, Any]) -> Any:
    """An azure-core requests transport that asks ``governor`` before each attempt and tells it
    the answer's headers (below the retry policy, so it sees every retry too). Its connection
    pool holds ``pool_size`` connections: every worker may be talking to one subscription."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    class GovernedTransport(RequestsTransport):  # type: ignore[misc]  # azure.* is untyped for mypy here
        def send(self, request: Any, **kwargs: Any) -> Any:
            governor.before(request.url)
            response = super().send(request, **kwargs)
            governor.after(request.url, response.headers)
            return response

    session = requests.Session()
    # As azure-core mounts its own: no urllib3 retries (azure-core's policy retries), a bigger pool.
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4,
        pool_maxsize=max(10, pool_size),
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    config = {
        key: client_kwargs[key]
        for key in ("connection_verify", "connection_timeout", "read_timeout")
        if key in client_kwargs
    }
    return GovernedTransport(session=session, session_owner=True, **config)


class FleetReader(ArmReader):
    """An ArmReader whose clients pace themselves through a ``ReadGovernor`` and whose single
    parts are fetched on the fleet's own pool (``gather``), not the reader's."""

    def __init__(
        self,
        settings: ArmSettings,
        env: Mapping[str, str],
        *,
        credential: Any = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        governor: ReadGovernor | None = None,
        retry_total: int = FLEET_RETRY_TOTAL,
        budget: WaitBudget | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.governor = governor if governor is not None else ReadGovernor(2 * concurrency)
        super().__init__(settings, env, credential=credential, max_workers=1, retry_total=retry_total, budget=budget)

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs = super()._client_kwargs()
        kwargs["transport"] = _governed_transport(self.governor, self.concurrency, kwargs)
        return kwargs

    def warm(self, subscriptions: Iterable[str], *, monitor: bool) -> None:
        """Build the SDK clients (imports included) on this thread, before the workers need them."""
        for subscription in sorted({s.lower(): s for s in subscriptions}.values()):
            self._cognitive(subscription)
            if monitor:
                self._monitor(subscription)

    def location_part(self, name: str, subscription: str, location: str) -> Part:
        return self._location_part(name, subscription, location)

    def graph_page(self, query: str, scope: FleetScope, *, top: int, skip_token: str | None) -> GraphPage:
        return query_resource_graph(
            self,
            query,
            subscriptions=scope.subscriptions,
            management_groups=scope.management_groups,
            top=top,
            skip_token=skip_token,
        )


# ---------------------------------------------------------------------------------------------
# Discovery


@dataclass
class DiscoveredAccount:
    target: Target
    row: dict[str, Any]
    request_id: str | None  # of the Graph page that held the row


@dataclass
class Discovery:
    accounts: list[DiscoveredAccount]
    pages: int
    request_ids: list[str]
    api_version: str
    total_records: int | None
    skipped: list[str] = field(default_factory=list)  # rows that were not accounts (should not happen)


def discover(reader: FleetReader, query: str, scope: FleetScope, *, page_size: int = GRAPH_PAGE_SIZE) -> Discovery:
    """Run the query, following ``$skipToken`` to the last page; one entry per account id."""
    accounts: dict[str, DiscoveredAccount] = {}
    skipped: list[str] = []
    request_ids: list[str] = []
    pages = 0
    token: str | None = None
    api_version = RESOURCE_GRAPH_API_VERSION
    total: int | None = None
    while True:
        page = reader.graph_page(query, scope, top=page_size, skip_token=token)
        pages += 1
        api_version = page.api_version
        total = page.total_records if total is None else total
        if page.request_id:
            request_ids.append(page.request_id)
        for row in page.rows:
            resource_id = str(row.get("id") or "")
            if str(row.get("type") or "").lower() != "microsoft.cognitiveservices/accounts":
                skipped.append(resource_id or repr(row.get("name")))
                continue
            try:
                target = Target.parse(resource_id)
            except UsageError:
                skipped.append(resource_id or repr(row.get("name")))
                continue
            # Rows can repeat when the index changes between pages: keep the first.
            accounts.setdefault(resource_id.lower(), DiscoveredAccount(target, row, page.request_id))
        if page.truncated and not page.skip_token:
            raise AoaiError(
                "Resource Graph truncated the result and gave no $skipToken: some accounts would be missed",
                hint="narrow the scope (--subscription, --management-group, --where)",
            )
        token = page.skip_token
        if not token or not page.rows:
            break
    log.debug("Resource Graph: %d accounts in %d page(s), request ids %s", len(accounts), pages, request_ids)
    return Discovery(list(accounts.values()), pages, request_ids, api_version, total, skipped)


def account_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The account resource a Graph row holds: Accounts_Get's keys, without Graph's own columns
    (and without nulls, as ARM leaves empty ones out)."""
    return {key: row[key] for key in _RESOURCE_COLUMNS if row.get(key) is not None}


def snapshot_from_row(
    found: DiscoveredAccount, *, api_version: str, taken_at: str, arm_endpoint: str
) -> AccountSnapshot:
    """A snapshot holding what the row already says: the ``account`` part, and the private
    endpoint connections when the row embeds them. Sources name the Graph page's request id."""
    snapshot = AccountSnapshot(target=found.target, taken_at=taken_at, arm_endpoint=arm_endpoint)
    account = account_from_row(found.row)
    request_ids = [found.request_id] if found.request_id else []
    snapshot.parts[str(PartName.ACCOUNT)] = Part(
        name=str(PartName.ACCOUNT),
        operation=GRAPH_OPERATION,
        api_version=api_version,
        request_ids=list(request_ids),
        data=account,
        scope=found.target.resource_id,
    )
    properties = account.get("properties")
    for name, key in _ROW_PARTS.items():
        value = properties.get(key) if isinstance(properties, dict) else None
        if isinstance(value, list):
            snapshot.parts[str(name)] = Part(
                name=str(name),
                operation=GRAPH_OPERATION,
                api_version=api_version,
                request_ids=list(request_ids),
                data=[item for item in value if isinstance(item, dict)],
                scope=found.target.resource_id,
            )
    return snapshot


# ---------------------------------------------------------------------------------------------
# Gathering the parts


class FleetProgress(Protocol):
    """What a front end learns while a fleet runs (called on the calling thread only)."""

    def discovered(self, total: int) -> None: ...

    def advance(self, account: str) -> None: ...


@dataclass
class FleetStats:
    """How the run went: for ``--debug``, benchmarks and tests (not part of the evidence)."""

    accounts: int = 0
    graph_pages: int = 0
    graph_request_ids: list[str] = field(default_factory=list)
    account_fetches: dict[str, int] = field(default_factory=dict)  # part -> calls
    location_fetches: dict[str, int] = field(default_factory=dict)  # part -> (subscription, location) pairs
    arm_requests: int = 0
    pauses: int = 0
    paused_seconds: float = 0.0
    lowest_remaining_reads: dict[str, int] = field(default_factory=dict)
    discovery_ms: float = 0.0
    gather_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "graph_pages": self.graph_pages,
            "graph_request_ids": list(self.graph_request_ids),
            "account_fetches": dict(self.account_fetches),
            "location_fetches": dict(self.location_fetches),
            "arm_requests": self.arm_requests,
            "pauses": self.pauses,
            "paused_seconds": round(self.paused_seconds, 3),
            "lowest_remaining_reads": dict(self.lowest_remaining_reads),
            "discovery_ms": self.discovery_ms,
            "gather_ms": self.gather_ms,
        }


def _no_location(name: str) -> Part:
    return Part(
        name=str(name),
        operation={PartName.LOCATION_MODELS: "Models_List", PartName.USAGES: "Usages_List"}.get(PartName(name), name),
        error=PartError(message="the account's location is unknown", code="NoLocation"),
    )


def gather(
    reader: FleetReader,
    snapshots: list[AccountSnapshot],
    parts: Iterable[str],
    *,
    progress: FleetProgress | None = None,
    stats: FleetStats | None = None,
) -> None:
    """Fill every snapshot with the ``parts`` it lacks, on one pool of ``reader.concurrency``
    workers: account-scoped parts per account, location parts once per (subscription, location)
    and shared by every account there. Work is queued account by account, so accounts complete
    (and ``progress.advance`` fires) steadily. A failing part is recorded in the part, never raised.
    """
    wanted = {PartName(p) for p in parts if p not in (PartName.ACCOUNT, PartName.PROBE)}
    location_wanted = sorted(LOCATION_PARTS & wanted)
    account_wanted = sorted(ACCOUNT_SCOPED_PARTS & wanted)
    stats = stats if stats is not None else FleetStats()
    shared: dict[tuple[str, str, str], Future[Part]] = {}
    waiting: dict[Future[Part], list[tuple[int, str]]] = {}
    outstanding = [0] * len(snapshots)
    pool = ThreadPoolExecutor(max_workers=reader.concurrency, thread_name_prefix="aoai-fleet")
    try:
        for index, snapshot in enumerate(snapshots):
            target = snapshot.target
            location = snapshot.location
            for name in location_wanted:
                if not location:
                    snapshot.parts[str(name)] = _no_location(name)
                    continue
                key = (target.subscription_id.lower(), location.lower(), str(name))
                future = shared.get(key)
                if future is None:
                    future = pool.submit(reader.location_part, name, target.subscription_id, location)
                    shared[key] = future
                    stats.location_fetches[str(name)] = stats.location_fetches.get(str(name), 0) + 1
                waiting.setdefault(future, []).append((index, str(name)))
                outstanding[index] += 1
            for name in account_wanted:
                if str(name) in snapshot.parts:  # already in the Graph row
                    continue
                future = pool.submit(reader.account_part, name, target)
                stats.account_fetches[str(name)] = stats.account_fetches.get(str(name), 0) + 1
                waiting[future] = [(index, str(name))]
                outstanding[index] += 1
        for index, count in enumerate(outstanding):
            if count == 0 and progress is not None:
                progress.advance(snapshots[index].target.account)
        for future in as_completed(waiting):
            part = future.result()
            for index, part_name in waiting[future]:
                snapshots[index].parts[part_name] = part
                outstanding[index] -= 1
                if outstanding[index] == 0 and progress is not None:
                    progress.advance(snapshots[index].target.account)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------------------------
# The whole run


def _discovery_notes(prepared: FleetPrepared, discovery: Discovery) -> list[str]:
    query = " ".join(line.strip() for line in prepared.query.splitlines())
    notes = [
        f"Fleet: {len(discovery.accounts)} account(s) found by Azure Resource Graph in {prepared.scope.describe()} "
        f"({discovery.pages} page(s), request id(s) {', '.join(discovery.request_ids) or 'none'}); query: {query}"
    ]
    if prepared.scope.subscriptions:
        found = {a.target.subscription_id.lower() for a in discovery.accounts}
        empty = [s for s in prepared.scope.subscriptions if s.lower() not in found]
        if empty:
            notes.append(
                f"No matching account in subscription(s) {', '.join(empty)} (none there, or not readable by "
                "this identity: Resource Graph shows only what Reader grants)"
            )
    if discovery.skipped:
        notes.append(f"Ignored {len(discovery.skipped)} Resource Graph row(s) that are not accounts")
    return notes


def run_fleet(
    prepared: FleetPrepared,
    env: Mapping[str, str],
    *,
    credential: Any = None,
    progress: FleetProgress | None = None,
    page_size: int = GRAPH_PAGE_SIZE,
    governor: ReadGovernor | None = None,
    budget: WaitBudget | None = None,
) -> RunOutcome:
    """Discover, gather, evaluate. ``outcome.extra["fleet"]`` holds the ``FleetStats``.

    Raises AuthError (exit 3) when the credential or the query is refused, NotFoundError (5) when
    no account matches, ServiceError / TransportError when the query itself fails; a part that
    fails for one account makes only that account's checks ``error``.
    """
    started = utc_now()
    clock = time.perf_counter()
    stats = FleetStats()
    reader = FleetReader(
        prepared.settings,
        env,
        credential=credential,
        concurrency=prepared.concurrency,
        governor=governor,
        budget=budget,
    )
    with reader:
        principal = reader.principal()  # a credential problem is exit 3 before any query
        discovery = discover(reader, prepared.query, prepared.scope, page_size=page_size)
        stats.discovery_ms = round((time.perf_counter() - clock) * 1000, 1)
        stats.graph_pages, stats.graph_request_ids = discovery.pages, list(discovery.request_ids)
        if not discovery.accounts:
            raise NotFoundError(
                f"no Azure OpenAI or AI Services account matched in {prepared.scope.describe()}"
                + (f" with --where {' and '.join(prepared.where)}" if prepared.where else ""),
                hint="check --subscription / --management-group / --where; Resource Graph lists only what the "
                "identity can read (Reader on the scope)",
            )
        if progress is not None:
            progress.discovered(len(discovery.accounts))
        taken_at = format_time(utc_now())
        snapshots = [
            snapshot_from_row(
                found, api_version=discovery.api_version, taken_at=taken_at, arm_endpoint=prepared.settings.endpoint
            )
            for found in discovery.accounts
        ]
        parts = parts_for(prepared.selection)
        reader.warm((s.target.subscription_id for s in snapshots), monitor=bool(MONITOR_PARTS & set(parts)))
        gathering = time.perf_counter()
        gather(reader, snapshots, parts, progress=progress, stats=stats)
        stats.gather_ms = round((time.perf_counter() - gathering) * 1000, 1)
        stats.arm_requests = reader.request_count
        stats.pauses, stats.paused_seconds = reader.governor.pauses, reader.governor.paused_seconds
        stats.lowest_remaining_reads = dict(reader.governor.lowest)
    stats.accounts = len(snapshots)
    report = build_report(snapshots, prepared.policy, prepared.selection)
    report.notes.extend(_discovery_notes(prepared, discovery))
    log.debug("fleet: %s", stats.to_dict())
    return RunOutcome(
        report=report,
        snapshots=snapshots,
        policy=prepared.policy,
        selection=prepared.selection,
        principal=principal,
        started_at=format_time(started),
        finished_at=format_time(utc_now()),
        elapsed_ms=round((time.perf_counter() - clock) * 1000, 1),
        arm_requests=stats.arm_requests,
        extra={"fleet": stats},
    )


def execute(
    prepared: FleetPrepared,
    env: Mapping[str, str],
    *,
    credential: Any = None,
    progress: FleetProgress | None = None,
    page_size: int = GRAPH_PAGE_SIZE,
) -> tuple[RunOutcome, dict[str, Any]]:
    """``run_fleet`` plus the evidence document (every account's findings and snapshot)."""
    from aoai.preflight import evidence

    outcome = run_fleet(prepared, env, credential=credential, progress=progress, page_size=page_size)
    return outcome, evidence.build(outcome)
