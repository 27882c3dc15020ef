"""The ARM subset (skeleton)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from aoai.emulator.server import EmulatorState


def routes(state: EmulatorState) -> list[BaseRoute]:
    return []
