"""Identity checks (AOAI6xx): key auth off, a managed identity, customer-managed keys when required."""

from __future__ import annotations

from aoai.preflight.checks import Control, check
from aoai.preflight.checks.common import LEARN, account, account_label, finding, props
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot


@check(
    "AOAI601",
    title="Local (key) authentication is disabled",
    area=Area.IDENTITY,
    severity=Severity.HIGH,
    parts=("account",),
    what="Checks the account's `disableLocalAuth`.",
    why="API keys are shared secrets: they identify no one, never expire, and work from anywhere the network "
    "allows. With keys disabled, every call carries a Microsoft Entra ID identity that RBAC authorises and "
    "logs record.",
    pass_fail="Pass: `disableLocalAuth` is true. Fail: keys are accepted.",
    remediation="Move clients to Entra ID (role 'Cognitive Services OpenAI User'), then: `az resource update --ids "
    "<resource-id> --set properties.disableLocalAuth=true`.",
    references=(f"{LEARN}/ai-services/disable-local-auth", f"{LEARN}/ai-foundry/openai/how-to/managed-identity"),
    controls=(
        Control(
            "azure-policy",
            "71ef260a-8f18-47b7-abcb-62d0673d94dc",
            "Azure AI Services resources should have key access disabled (disable local authentication)",
        ),
        Control(
            "azure-policy",
            "55eff01b-f2bd-4c32-9203-db285f709d30",
            "Configure Azure AI Services resources to disable local key access (disable local authentication)",
        ),
        Control(
            "psrule", "Azure.AI.DisableLocalAuth", "Authenticate requests to Azure AI services with Entra ID identities"
        ),
    ),
)
def local_auth_disabled(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    value = props(account(snapshot)).get("disableLocalAuth")
    label = account_label(snapshot)
    if value is True:
        return [
            finding(
                "AOAI601",
                snapshot,
                Status.PASS,
                f"{label} accepts only Entra ID (key auth disabled)",
                part="account",
                observed=value,
                expected=True,
            )
        ]
    return [
        finding(
            "AOAI601",
            snapshot,
            Status.FAIL,
            f"{label} accepts API keys (disableLocalAuth is {str(value).lower()})",
            part="account",
            observed=value,
            expected=True,
        )
    ]


@check(
    "AOAI602",
    title="A managed identity is assigned to the account",
    area=Area.IDENTITY,
    severity=Severity.MEDIUM,
    parts=("account",),
    what="Checks the account's `identity.type` (SystemAssigned and/or UserAssigned).",
    why="The account's own identity is how it reaches other resources without secrets: customer-managed "
    "keys in Key Vault, storage for batch and fine-tuning files, Azure AI Search for grounding.",
    pass_fail="Pass: a system- or user-assigned identity. Fail: none.",
    remediation="`az cognitiveservices account identity assign --name <account> --resource-group <rg>`",
    references=(f"{LEARN}/ai-foundry/openai/how-to/managed-identity",),
    controls=(Control("psrule", "Azure.AI.ManagedIdentity", "Configure managed identities to access Azure resources"),),
)
def managed_identity(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    identity = account(snapshot).get("identity") or {}
    kind = str(identity.get("type") or "None")
    label = account_label(snapshot)
    observed = {"type": kind, "userAssignedIdentities": sorted((identity.get("userAssignedIdentities") or {}).keys())}
    if "assigned" in kind.lower():
        return [
            finding(
                "AOAI602",
                snapshot,
                Status.PASS,
                f"{label} has a managed identity ({kind})",
                part="account",
                observed=observed,
                expected="SystemAssigned or UserAssigned",
            )
        ]
    return [
        finding(
            "AOAI602",
            snapshot,
            Status.FAIL,
            f"{label} has no managed identity",
            part="account",
            observed=observed,
            expected="SystemAssigned or UserAssigned",
        )
    ]


@check(
    "AOAI603",
    title="Data at rest is encrypted with a customer-managed key (when the policy requires it)",
    area=Area.IDENTITY,
    severity=Severity.MEDIUM,
    parts=("account",),
    what="When the policy sets `require_cmk = true`, checks that the account's `encryption.keySource` is "
    "`Microsoft.KeyVault`.",
    why="Some regulations require the organisation to own and be able to revoke the key that encrypts stored "
    "data (fine-tuning files, stored responses, batch files).",
    pass_fail="Skip: the policy does not require CMK. Pass: key source `Microsoft.KeyVault`. "
    "Fail: Microsoft-managed keys.",
    remediation="Assign a managed identity with access to the key (AOAI602), then: `az cognitiveservices account "
    'update --name <account> --resource-group <rg> --encryption \'{"keySource":"Microsoft.KeyVault",'
    '"keyVaultProperties":{"keyName":"KEY","keyVersion":"VERSION","keyVaultUri":"https://VAULT.vault.azure.net/"}}\'`',
    references=(f"{LEARN}/ai-foundry/openai/encrypt-data-at-rest",),
    controls=(
        Control(
            "azure-policy",
            "67121cc7-ff39-4ab8-b7e3-95b84dab487d",
            "Cognitive Services accounts should enable data encryption with a customer-managed key",
        ),
    ),
)
def customer_managed_key(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    if not policy.require_cmk:
        return [
            finding("AOAI603", snapshot, Status.SKIP, "The policy does not require customer-managed keys (require_cmk)")
        ]
    encryption = props(account(snapshot)).get("encryption") or {}
    source = encryption.get("keySource") or "Microsoft.CognitiveServices"
    label = account_label(snapshot)
    if source == "Microsoft.KeyVault":
        vault = (encryption.get("keyVaultProperties") or {}).get("keyVaultUri")
        return [
            finding(
                "AOAI603",
                snapshot,
                Status.PASS,
                f"{label} encrypts data with a customer-managed key ({vault or 'Key Vault'})",
                part="account",
                observed=source,
                expected="Microsoft.KeyVault",
            )
        ]
    return [
        finding(
            "AOAI603",
            snapshot,
            Status.FAIL,
            f"{label} uses Microsoft-managed keys ({source}); the policy requires CMK",
            part="account",
            observed=source,
            expected="Microsoft.KeyVault",
        )
    ]
