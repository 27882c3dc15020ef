"""docs/checks.md and docs/evidence.schema.json are generated from the code; stale files fail here.
Regenerate with: python -c "from aoai.preflight.checks.docs import write_docs; write_docs()"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aoai.preflight.checks import all_checks
from aoai.preflight.checks.docs import checks_markdown, explain_text
from aoai.preflight.evidence import schema_text

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_checks_md_is_current() -> None:
    assert (DOCS / "checks.md").read_text(encoding="utf-8") == checks_markdown(), "regenerate docs/checks.md"


def test_evidence_schema_is_current() -> None:
    assert (DOCS / "evidence.schema.json").read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("check_id", sorted(all_checks()))
def test_every_check_is_documented(check_id: str) -> None:
    info = all_checks()[check_id]
    assert re.fullmatch(r"AOAI\d{3}", info.id)
    assert info.title[0].isupper() and not info.title.lower().startswith("ensure")
    for section in (info.what, info.why, info.pass_fail, info.remediation):
        assert len(section) > 30
    assert info.references and all(r.startswith("https://learn.microsoft.com/") for r in info.references)
    for control in info.controls:
        assert control.kind in ("azure-policy", "psrule")
        if control.kind == "azure-policy":
            assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", control.id)
        else:
            assert control.id.startswith("Azure.AI.")
    text = explain_text(info)
    assert info.title in text and "Remediation" in text
