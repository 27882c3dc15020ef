"""``aoai demo`` is the README's first command: it must run the whole tour and exit 0."""

from __future__ import annotations

from .conftest import FAKE_KEY, AoaiRunner


def test_demo_tours_preflight_and_resp(aoai_bare: AoaiRunner) -> None:
    result = aoai_bare("demo", timeout=120)
    assert result.code == 0, result.output[-3000:]
    output = result.output
    for marker in (
        "$ aoai preflight run --resource-group rg-aoai-demo --account aoai-ready",
        "Verdict: Ready",
        "Verdict: Not ready (exit 1)",
        "$ aoai preflight plan -",
        "the plan adds 40",  # beyond the gpt-4o Standard quota (AOAI303)
        "gpt-35-turbo 0613",  # a retired version (AOAI205)
        "AOAI201",
        "$ aoai resp create",
        "reconnecting after event",
        "cancelled",
        "compaction",
        "steps as expected",
    ):
        assert marker in output, f"{marker!r} missing from the demo output"
    assert FAKE_KEY not in output
