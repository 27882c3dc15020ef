"""Check documentation rendered from the registry: ``aoai preflight explain``, ``aoai preflight
checks`` and docs/checks.md all come from the same metadata (ruff-style fixed sections), so the
docs cannot drift from the code; a test fails when docs/checks.md is stale."""

from __future__ import annotations

from typing import Any

from aoai.atomicfile import write_file
from aoai.preflight.checks import CheckInfo, Control, all_checks
from aoai.preflight.report import Area

_CONTROL_KIND = {"azure-policy": "Azure Policy", "psrule": "PSRule for Azure"}
_PART_OPERATIONS = {
    "account": "Accounts_Get",
    "deployments": "Deployments_List",
    "location_models": "Models_List (location)",
    "usages": "Usages_List (location)",
    "private_endpoint_connections": "PrivateEndpointConnections_List",
    "diagnostic_settings": "DiagnosticSettings_List (Microsoft.Insights)",
    "diagnostic_categories": "DiagnosticSettingsCategory_List (Microsoft.Insights)",
}



def control_text(control: Control) -> str:
    kind = _CONTROL_KIND.get(control.kind, control.kind)
    return f"{kind} `{control.id}`" + (f" — {control.name}" if control.name else "")


def _parts_text(info: CheckInfo) -> str:
    required = [f"`{p}` ({_PART_OPERATIONS.get(p, p)})" for p in sorted(info.parts)]
    optional = [f"`{p}` ({_PART_OPERATIONS.get(p, p)}, when available)" for p in sorted(info.uses - info.parts)]
    return ", ".join(required + optional)


def check_markdown(info: CheckInfo, *, heading: str = "###") -> str:
    lines = [
        f'<a id="{info.id.lower()}"></a>',
        "",
        f"{heading} {info.id} — {info.title}",
        "",
        f"Area: **{info.area.value}** · Severity: **{info.severity.value}** · ARM data: {_parts_text(info)}",
        "",
        f"**What it checks.** {info.what}",
        "",
        f"**Why it matters.** {info.why}",
        "",
        f"**Pass / fail.** {info.pass_fail}",
        "",
        f"**Remediation.** {info.remediation}",
        "",
    ]
    if info.references:
        lines.append("**References.**")
        lines.extend(f"- <{url}>" for url in info.references)
        lines.append("")
    lines.append("**Equivalent controls.** " + ("; ".join(control_text(c) for c in info.controls) or "none known."))
    lines.append("")
    return "\n".join(lines)


def explain_text(info: CheckInfo) -> str:
    """``aoai preflight explain ID``: the same sections as docs/checks.md, as plain text."""
    lines = [
        f"{info.id}  {info.title}",
        f"area {info.area.value} · severity {info.severity.value} · ARM data: "
        + _parts_text(info).replace("`", ""),
        "",
        "What it checks",
        f"  {info.what}",
        "",
        "Why it matters",
        f"  {info.why}",
        "",
        "Pass / fail",
        f"  {info.pass_fail}",
        "",
        "Remediation",
        f"  {info.remediation}",
    ]
    if info.references:
        lines += ["", "References"] + [f"  {url}" for url in info.references]
    lines += ["", "Equivalent controls"]
    lines += [f"  {control_text(c).replace('`', '')}" for c in info.controls] or ["  none known"]
    return "\n".join(lines) + "\n"


def catalog_rows() -> list[dict[str, Any]]:
    """``aoai preflight checks -o json``: one object per check."""
    return [
        {
            "id": info.id,
            "area": info.area.value,
            "severity": info.severity.value,
            "title": info.title,
            "parts": sorted(info.parts),
            "uses": sorted(info.uses),
            "controls": [{"kind": c.kind, "id": c.id, "name": c.name} for c in info.controls],
            "references": list(info.references),
        }
        for info in all_checks().values()
    ]


def catalog_text() -> str:
    """``aoai preflight checks``: id, area, severity, title — aligned plain text."""
    rows = [(i.id, i.area.value, i.severity.value, i.title) for i in all_checks().values()]
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    header = ("ID", "AREA", "SEVERITY", "TITLE")
    widths = [max(w, len(h)) for w, h in zip(widths, header[:3], strict=True)]
    out = []
    for row in [header, *rows]:
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
    return "\n".join(out) + "\n"


def checks_markdown() -> str:
    """docs/checks.md."""
    checks = all_checks()
    lines = [
        "# `aoai preflight` checks",
        "",
        "<!-- Generated from the check registry by aoai.preflight.checks.docs.checks_markdown(); do not edit. -->",
        "",
        "Every check has a stable id (`AOAI` + area digit + number; never reused). Statuses: `pass`, `warn`, "
        "`fail`, `error` (could not be evaluated — the ARM data it needs was refused or missing), `skip` "
        "(not applicable or deselected) and `waived` (a policy waiver accepted the finding). `aoai preflight "
        "explain ID` prints one entry; `--only` / `--skip` take an id, an id prefix (`AOAI4`) or an area.",
        "",
        "| id | area | severity | title |",
        "|---|---|---|---|",
    ]
    for info in checks.values():
        lines.append(f"| [{info.id}](#{info.id.lower()}) | {info.area.value} | {info.severity.value} | {info.title} |")
    lines.append("")
    for area in Area:
        members = [info for info in checks.values() if info.area is area]
        if not members:
            continue
        lines += [f"## {area.value.capitalize()}", ""]
        for info in members:
            lines.append(check_markdown(info))
    return "\n".join(lines).rstrip("\n") + "\n"


def write_docs(docs_dir: str = "docs") -> None:
    """Regenerate docs/checks.md and docs/evidence.schema.json (run from the repository root)."""
    from pathlib import Path

    from aoai.preflight.evidence import schema_text

    root = Path(docs_dir)
    write_file(root / "checks.md", checks_markdown())
    write_file(root / "evidence.schema.json", schema_text())
