"""Network checks (AOAI4xx): public access closed, a private endpoint approved, outbound restricted."""

from __future__ import annotations

from aoai.preflight.checks import Control, check
from aoai.preflight.checks.common import LEARN, account, account_label, finding, items, props
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot


@check(
    "AOAI401",
    title="Public network access is disabled or restricted to selected networks",
    area=Area.NETWORK,
    severity=Severity.HIGH,
    parts=("account",),
    what="Checks the account's `publicNetworkAccess` and `networkAcls.defaultAction`.",
    why="An account reachable from any network relies on keys or tokens alone; leaked keys are then usable "
    "from anywhere. Closing public access (private endpoints) or denying by default (IP / VNet rules) limits "
    "who can even try.",
    pass_fail="Pass: `publicNetworkAccess` is `Disabled`, or `networkAcls.defaultAction` is `Deny`. "
    "Fail: public access enabled with default action `Allow` (or no network rules).",
    remediation="Disable public access once private endpoints are in place: `az resource update --ids <resource-id> "
    "--set properties.publicNetworkAccess=Disabled`; or deny by default and allow selected networks: "
    "`az cognitiveservices account network-rule add --name <account> --resource-group <rg> --ip-address "
    "CIDR` and set the default action to Deny (portal: Networking > Selected networks).",
    references=(f"{LEARN}/ai-services/cognitive-services-virtual-networks",),
    controls=(
        Control(
            "azure-policy",
            "037eea7a-bd0a-46c5-9a66-03aea78705d3",
            "Azure AI Services resources should restrict network access",
        ),
        Control(
            "azure-policy",
            "47ba1dd7-28d9-4b07-a8d5-9813bed64e0c",
            "Configure Cognitive Services accounts to disable public network access",
        ),
        Control(
            "psrule", "Azure.AI.PublicAccess", "Restrict access of Azure AI services to authorized virtual networks"
        ),
    ),
)
def public_access(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    properties = props(account(snapshot))
    public = properties.get("publicNetworkAccess") or "Enabled"
    default_action = (properties.get("networkAcls") or {}).get("defaultAction")
    observed = {"publicNetworkAccess": public, "networkAcls.defaultAction": default_action}
    expected = "publicNetworkAccess Disabled, or networkAcls.defaultAction Deny"
    label = account_label(snapshot)
    if public == "Disabled":
        return [
            finding(
                "AOAI401",
                snapshot,
                Status.PASS,
                f"{label} has public network access disabled",
                part="account",
                observed=observed,
                expected=expected,
            )
        ]
    if default_action == "Deny":
        return [
            finding(
                "AOAI401",
                snapshot,
                Status.PASS,
                f"{label} denies public network access except for selected networks",
                part="account",
                observed=observed,
                expected=expected,
            )
        ]
    return [
        finding(
            "AOAI401",
            snapshot,
            Status.FAIL,
            f"{label} allows public network access from all networks "
            f"(publicNetworkAccess {public}, networkAcls.defaultAction {default_action or 'not set'})",
            part="account",
            observed=observed,
            expected=expected,
        )
    ]


@check(
    "AOAI402",
    title="At least one private endpoint connection is approved",
    area=Area.NETWORK,
    severity=Severity.MEDIUM,
    parts=("account", "private_endpoint_connections"),
    what="Lists the account's private endpoint connections (PrivateEndpointConnections_List) and their "
    "`privateLinkServiceConnectionState.status`; pending and rejected connections are reported.",
    why="A private endpoint keeps data-plane traffic on the Microsoft backbone and lets public access be "
    "closed. A connection still `Pending` carries no traffic: the network team's request was never approved.",
    pass_fail="Pass: at least one `Approved` connection. Fail: none (the message lists pending / rejected ones).",
    remediation="Approve a pending connection: `az network private-endpoint-connection approve --id CONNECTION_ID "
    '--description "approved"`; or create one: `az network private-endpoint create --name <account>-pe '
    "--resource-group <rg> --vnet-name VNET --subnet SUBNET --private-connection-resource-id <resource-id> "
    "--group-id account --connection-name <account>-pe` (plus the privatelink.openai.azure.com DNS zone).",
    references=(f"{LEARN}/ai-services/cognitive-services-virtual-networks#use-private-endpoints",),
    controls=(
        Control(
            "azure-policy",
            "d6759c02-b87f-42b7-892e-71b3f471d782",
            "Azure AI Services resources should use Azure Private Link",
        ),
        Control("psrule", "Azure.AI.PrivateEndpoints", "Use Private Endpoints to access Azure AI services accounts"),
    ),
)
def private_endpoints(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    by_status: dict[str, list[str]] = {}
    for connection in items(snapshot, "private_endpoint_connections"):
        state = (props(connection).get("privateLinkServiceConnectionState") or {}).get("status") or "Unknown"
        by_status.setdefault(str(state), []).append(str(connection.get("name")))
    observed = {status: sorted(names) for status, names in sorted(by_status.items())}
    label = account_label(snapshot)
    approved = by_status.get("Approved", [])
    others = "; ".join(
        f"{status.lower()}: {', '.join(sorted(names))}"
        for status, names in sorted(by_status.items())
        if status != "Approved"
    )
    if approved:
        text = f"{label} has {len(approved)} approved private endpoint connection(s)"
        return [
            finding(
                "AOAI402",
                snapshot,
                Status.PASS,
                text + (f" ({others})" if others else ""),
                part="private_endpoint_connections",
                observed=observed,
                expected="at least one Approved",
            )
        ]
    text = f"{label} has no approved private endpoint connection" + (f" ({others})" if others else "")
    return [
        finding(
            "AOAI402",
            snapshot,
            Status.FAIL,
            text,
            part="private_endpoint_connections",
            observed=observed,
            expected="at least one Approved",
        )
    ]


@check(
    "AOAI403",
    title="Outbound network access is restricted",
    area=Area.NETWORK,
    severity=Severity.LOW,
    parts=("account",),
    what="Checks the account's `restrictOutboundNetworkAccess` (data loss prevention: outbound calls only to "
    "`allowedFqdnList`).",
    why="Features such as file search, web content or tools make the service call out. Restricting outbound "
    "access keeps an attacker (or a prompt injection) from making the account send data to arbitrary hosts.",
    pass_fail="Pass: `restrictOutboundNetworkAccess` is true. Warn: it is not (a recommendation, so warn by default).",
    remediation="`az resource update --ids <resource-id> --set properties.restrictOutboundNetworkAccess=true`, "
    "and list the hosts the account may reach in `properties.allowedFqdnList`.",
    references=(f"{LEARN}/ai-services/cognitive-services-data-loss-prevention",),
)
def outbound_restricted(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    properties = props(account(snapshot))
    restricted = properties.get("restrictOutboundNetworkAccess") is True
    fqdns = properties.get("allowedFqdnList") or []
    label = account_label(snapshot)
    observed = {
        "restrictOutboundNetworkAccess": properties.get("restrictOutboundNetworkAccess"),
        "allowedFqdnList": fqdns,
    }
    if restricted:
        return [
            finding(
                "AOAI403",
                snapshot,
                Status.PASS,
                f"{label} restricts outbound network access",
                part="account",
                observed=observed,
                expected=True,
            )
        ]
    return [
        finding(
            "AOAI403",
            snapshot,
            Status.WARN,
            f"{label} does not restrict outbound network access",
            part="account",
            observed=observed,
            expected=True,
        )
    ]
