from __future__ import annotations

import pytest

from aoai import __version__
from aoai.config import normalize_endpoint
from aoai.emulator import server
from aoai.errors import UsageError

from .conftest import AoaiRunner, control


def test_version(aoai_bare: AoaiRunner) -> None:
    result = aoai_bare("--version")
    assert result.code == 0
    assert result.stdout.strip() == f"aoai {__version__}"


@pytest.mark.parametrize(
    "raw",
    [
        "https://myres.openai.azure.com",
        "https://myres.openai.azure.com/",
        "https://myres.openai.azure.com/openai/v1/",
        "https://myres.openai.azure.com/openai",
    ],
)
def test_endpoint_forms_normalise(raw: str) -> None:
    assert normalize_endpoint(raw) == "https://myres.openai.azure.com/openai/v1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://x.cognitiveservices.azure.com", "https://x.cognitiveservices.azure.com/openai/v1"),
        ("https://x.services.ai.azure.com/api/projects/p1", "https://x.services.ai.azure.com/openai/v1"),
        ("http://127.0.0.1:8443", "http://127.0.0.1:8443/openai/v1"),
    ],
)
def test_other_endpoint_forms(raw: str, expected: str) -> None:
    assert normalize_endpoint(raw) == expected


@pytest.mark.parametrize("raw", ["myres.openai.azure.com", "http://myres.openai.azure.com", "ftp://x", "https://x/foo"])
def test_bad_endpoints_are_usage_errors(raw: str) -> None:
    with pytest.raises(UsageError):
        normalize_endpoint(raw)


def test_emulator_health(emulator: server.RunningEmulator) -> None:
    assert emulator.url.startswith("https://127.0.0.1:")
    assert control(emulator, "GET", "/_emulator/health")["status"] == "ok"
