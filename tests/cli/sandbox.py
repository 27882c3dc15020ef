"""Real failing file systems for tests: a private mount namespace (``unshare -rm``) where a folder
can be made read-only or replaced by a tiny tmpfs that fills up. We run as root, so permission
bits cannot make anything read-only; a mount can. Tests skip with the reason when the machine
does not allow user namespaces."""

from __future__ import annotations

import functools
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from ..conftest import Result


@functools.cache
def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def require_namespaces() -> None:
    if not _namespaces_work():
        pytest.skip("needs `unshare -rm` (user + mount namespaces) to make a read-only or full file system")


def read_only(folder: Path) -> str:
    """Shell: remount ``folder`` read-only (its content stays visible)."""
    q = shlex.quote(str(folder))
    return f"mount --bind {q} {q} && mount -o remount,bind,ro {q}"


def tiny_tmpfs(folder: Path, size: str = "16k") -> str:
    """Shell: mount a small, nearly full tmpfs on ``folder``."""
    q = shlex.quote(str(folder))
    return f"mount -t tmpfs -o size={size} tmpfs {q} && head -c {size} /dev/zero > {q}/.filler 2>/dev/null; true"


def run_in_namespace(
    setup: Sequence[str],
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdin: bytes | None = None,
    redirect: str = "",
    after: str = "",
    timeout: float = 60,
) -> Result:
    """Run ``aoai ARGS`` after the ``setup`` shell lines, inside a private mount namespace.

    ``redirect`` is appended to the command (e.g. ``">/dev/full"`` or ``"2>&-"``); ``after`` runs
    once it has ended, still inside the namespace (e.g. to list what it left on a tmpfs)."""
    require_namespaces()
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "aoai", *args))
    run = f"exec {command} {redirect}" if not after else f"{{ {command} {redirect}; rc=$?; {after}; exit $rc; }}"
    script = " && ".join([*setup, run])
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        input=stdin,
        capture_output=True,
        env=dict(env),
        cwd=cwd,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
