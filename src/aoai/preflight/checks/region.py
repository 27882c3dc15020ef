"""Region check (AOAI1xx): the account's location offers the Responses API (catalog)."""

from __future__ import annotations

from aoai.preflight.checks import check
from aoai.preflight.checks.common import LEARN, account, account_label, finding
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot


@check(
    "AOAI101",
    title="The account's region supports the Responses API",
    area=Area.REGION,
    severity=Severity.HIGH,
    parts=("account",),
    what="Compares the account's `location` with the Responses API region list of the catalog (read from "
    "Microsoft Learn, with source and date; extend it with `[preflight.catalog] extra_regions`).",
    why="The Responses API is available only in some regions. A deployment in another region answers "
    "chat completions but returns 404 on `/openai/v1/responses`, which surfaces only at release.",
    pass_fail="Pass: the location is in the catalog's region list. Fail: it is not.",
    remediation="Create the account (and its deployments) in a supported region, e.g. `az cognitiveservices account "
    "create --name NAME --resource-group <rg> --location swedencentral --kind AIServices --sku S0 --custom-domain "
    "NAME`. If Microsoft has added the region since the catalog was read, add it to `extra_regions` under "
    "`[preflight.catalog]` in aoai.toml.",
    references=(f"{LEARN}/ai-foundry/openai/how-to/responses",),
)
def responses_region(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    location = str(account(snapshot).get("location") or "")
    catalog = policy.catalog
    version = ", ".join(f"{s.kind} {s.version}" for s in catalog.sources if s.kind == "responses-regions")
    label = account_label(snapshot)
    expected = {"regions": list(catalog.regions), "catalog": version}
    if location and catalog.supports_region(location):
        return [
            finding(
                "AOAI101",
                snapshot,
                Status.PASS,
                f"{label}: the region supports the Responses API",
                part="account",
                observed=location,
                expected=expected,
            )
        ]
    return [
        finding(
            "AOAI101",
            snapshot,
            Status.FAIL,
            f"{label}: {location or 'no location'} is not in the Responses API region list "
            f"({len(catalog.regions)} regions, {version or 'catalog'})",
            part="account",
            observed=location,
            expected=expected,
        )
    ]
