"""Account checks (AOAI0xx): the account exists, is provisioned, is of the right kind, and has
the custom subdomain Entra ID needs on the data plane."""

from __future__ import annotations

from aoai.preflight.checks import check
from aoai.preflight.checks.common import LEARN, account, account_label, finding, props
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot

SUPPORTED_KINDS = ("OpenAI", "AIServices")


@check(
    "AOAI001",
    title="The account is provisioned and is an Azure OpenAI or AI Services account",
    area=Area.ACCOUNT,
    severity=Severity.HIGH,
    parts=("account",),
    what="Reads the account (Accounts_Get) and checks that `provisioningState` is `Succeeded` and that "
    "`kind` is `OpenAI` or `AIServices`.",
    why="An account that is still provisioning, failed to provision, or is another kind of Cognitive "
    "Services account (Speech, Vision, …) cannot serve Azure OpenAI deployments or the Responses API.",
    pass_fail="Pass: `Succeeded` and kind `OpenAI` or `AIServices`. Fail: any other state or kind. An account "
    "that does not exist stops the run with exit code 5 (not found).",
    remediation="Inspect the account: `az cognitiveservices account show --name <account> --resource-group <rg> "
    '--query "{kind:kind, state:properties.provisioningState}"`. If it is of another kind, create an AI '
    "Services account: `az cognitiveservices account create --name NAME --resource-group <rg> --kind AIServices "
    "--sku S0 --location LOCATION --custom-domain NAME`.",
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/create-resource",
        f"{LEARN}/ai-services/multi-service-resource",
    ),
)
def account_provisioned(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    data = account(snapshot)
    state = props(data).get("provisioningState")
    kind = data.get("kind")
    observed = {"provisioningState": state, "kind": kind}
    expected = {"provisioningState": "Succeeded", "kind": list(SUPPORTED_KINDS)}
    label = account_label(snapshot)
    if state == "Succeeded" and kind in SUPPORTED_KINDS:
        return [
            finding(
                "AOAI001",
                snapshot,
                Status.PASS,
                f"{label} is a provisioned {kind} account",
                part="account",
                observed=observed,
                expected=expected,
            )
        ]
    problems = []
    if state != "Succeeded":
        problems.append(f"provisioningState is {state or 'missing'}")
    if kind not in SUPPORTED_KINDS:
        problems.append(f"kind is {kind or 'missing'}, not OpenAI or AIServices")
    return [
        finding(
            "AOAI001",
            snapshot,
            Status.FAIL,
            f"{label}: {'; '.join(problems)}",
            part="account",
            observed=observed,
            expected=expected,
        )
    ]


@check(
    "AOAI002",
    title="The account has a custom subdomain",
    area=Area.ACCOUNT,
    severity=Severity.MEDIUM,
    parts=("account",),
    what="Checks that the account has `properties.customSubDomainName`, so that its endpoint is "
    "`https://NAME.openai.azure.com` (or `NAME.cognitiveservices.azure.com`) rather than a shared regional one.",
    why="Microsoft Entra ID authentication on the data plane, private endpoints and the v1 Responses "
    "endpoint (`https://NAME.openai.azure.com/openai/v1/`) all need the account's own subdomain; a "
    "regional endpoint accepts only keys.",
    pass_fail="Pass: a custom subdomain is set. Fail: it is missing.",
    remediation="Set it (once; it cannot be changed later): `az cognitiveservices account update --name <account> "
    "--resource-group <rg> --custom-domain <account>`, then point clients at `https://<account>.openai.azure.com/`.",
    references=(
        f"{LEARN}/ai-services/cognitive-services-custom-subdomains",
        f"{LEARN}/ai-services/authentication",
    ),
)
def custom_subdomain(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    data = account(snapshot)
    subdomain = props(data).get("customSubDomainName")
    label = account_label(snapshot)
    if isinstance(subdomain, str) and subdomain.strip():
        return [
            finding(
                "AOAI002",
                snapshot,
                Status.PASS,
                f"{label} has the custom subdomain {subdomain}",
                part="account",
                observed=subdomain,
                expected="custom subdomain set",
            )
        ]
    return [
        finding(
            "AOAI002",
            snapshot,
            Status.FAIL,
            f"{label} has no custom subdomain: Entra ID authentication on the data plane will not work",
            part="account",
            observed=None,
            expected="custom subdomain set",
        )
    ]
