"""Scenarios: the subscriptions, accounts, deployments, models and settings the emulator serves.

(Skeleton: the ARM work fleshes this out. Keep ``Scenario.default_subscription`` and
``Scenario.data_plane_deployment`` — the server and the data plane rely on them.)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Deployment:
    name: str
    model_name: str
    model_version: str
    model_format: str = "OpenAI"


@dataclass
class Account:
    name: str
    resource_group: str
    subscription_id: str
    location: str
    deployments: list[Deployment] = field(default_factory=list)


@dataclass
class Scenario:
    name: str
    accounts: list[Account]

    @property
    def default_subscription(self) -> str:
        return self.accounts[0].subscription_id

    def data_plane_deployment(self, name: str) -> Deployment | None:
        """The deployment the data plane answers for under ``name`` (any account's), or None."""
        for account in self.accounts:
            for deployment in account.deployments:
                if deployment.name == name:
                    return deployment
        return None


def load_scenario(name_or_path: str) -> Scenario:
    sub = "00000000-0000-0000-0000-000000000001"
    return Scenario(
        name="default",
        accounts=[
            Account(
                "aoai-ready",
                "rg-ai",
                sub,
                "swedencentral",
                [Deployment("chat", "gpt-4.1", "2025-04-14"), Deployment("gpt-5-mini", "gpt-5-mini", "2025-08-07")],
            )
        ],
    )
