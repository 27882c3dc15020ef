"""Start-up stays light: help and --version import no HTTP client, no rich, no Azure SDK.

(Times are measured by benchmarks/bench_resp.py; this test pins the imports that cost them.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("httpx", "httpx_sse", "rich", "azure", "pydantic", "sqlite3")
PROBE = """
import json, sys
from aoai.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(%r)))
sys.stderr.write("HEAVY=" + json.dumps(heavy) + "\\n")
"""


@pytest.mark.parametrize(
    "args",
    [["--version"], ["resp", "--help"], ["resp", "create", "--help"], ["resp", "stream", "--help"]],
)
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    program = PROBE % json.dumps(HEAVY)
    result = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=60)
    marker = [line for line in result.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, result.stderr
    assert json.loads(marker[0].removeprefix("HEAVY=")) == []
    assert result.stdout
