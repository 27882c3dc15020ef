"""The one file writer: atomic, 0600 temp under a random name, redacted, never replacing a target
that is not a regular file, nothing half-written left on any failure (a real full tmpfs where the
machine allows mounting one, an injected OSError otherwise)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aoai import atomicfile
from aoai.atomicfile import WriteError, append_text, write_file
from aoai.errors import UsageError
from aoai.redaction import register_secret

from .conftest import AoaiRunner

SECRET = "atomic-test-SECRET-4e1d77"


def _leftovers(directory: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


def test_new_file_modes(tmp_path: Path) -> None:
    private = write_file(tmp_path / "private.json", "{}\n", private=True)
    public = write_file(tmp_path / "public.json", "{}\n")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(public.stat().st_mode) == 0o666 & ~umask
    assert _leftovers(tmp_path, "private.json", "public.json") == []


def test_existing_file_is_replaced_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o640)
    write_file(target, "new", private=True)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_text_and_bytes_are_redacted(tmp_path: Path) -> None:
    register_secret(SECRET)
    write_file(tmp_path / "a.txt", f"key={SECRET} json={SECRET!r}")
    write_file(tmp_path / "b.bin", b"\x00" + SECRET.encode() + b"\xff")
    append_text(tmp_path / "c.md", f"| {SECRET} |\n")
    for name in ("a.txt", "b.bin", "c.md"):
        assert SECRET.encode() not in (tmp_path / name).read_bytes()


def test_planted_links_at_temp_names_are_never_followed(tmp_path: Path) -> None:
    """The old emulator env file went through a fixed ``NAME.tmp`` that followed a planted link."""
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    for name in ("env.tmp", ".env.tmp"):
        (tmp_path / name).symlink_to(victim)
    write_file(tmp_path / "env", "export A=1\n", private=True)
    assert victim.read_text() == "untouched"
    assert (tmp_path / "env").read_text() == "export A=1\n"
    assert not (tmp_path / "env").is_symlink()


def test_link_to_a_regular_file_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_file(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_dangling_link_is_replaced_not_followed(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    write_file(link, "new")
    assert not link.is_symlink() and link.read_text() == "new"
    assert not (tmp_path / "elsewhere.json").exists()


def test_character_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    write_file(link, "discarded")
    write_file("/dev/null", "discarded")
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert _leftovers(tmp_path, "null") == []


def test_fifo_is_written_through_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_file(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert _leftovers(tmp_path, "pipe") == []


def test_directory_and_missing_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(UsageError, match="it is a directory"):
        write_file(tmp_path / "dir", "x", what="evidence")
    with pytest.raises(UsageError, match=r"directory .* does not exist"):
        write_file(tmp_path / "missing" / "x.json", "x")
    with pytest.raises(UsageError, match="directory"):
        append_text(tmp_path / "dir", "x")


def test_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(UsageError, match="not a regular file"):
            write_file(path, "x")
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        server.close()


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_injected_failure_leaves_nothing_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "evidence.json"
    target.write_text("old")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomicfile.os, failing, boom)
    with pytest.raises(WriteError, match=r"No space left on device; nothing was written"):
        write_file(target, "new" * 1000, what="evidence")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert _leftovers(tmp_path, "evidence.json") == []


def _can_mount_tmpfs(where: Path) -> bool:
    if shutil.which("unshare") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=16k tmpfs {where}"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def test_full_disk_leaves_nothing_half_written(tmp_path: Path) -> None:
    """A real ENOSPC: a 16 KiB tmpfs (in a private mount namespace) and a 64 KiB write."""
    mount = tmp_path / "small"
    mount.mkdir()
    if not _can_mount_tmpfs(mount):
        pytest.skip("cannot mount a tmpfs here (needs root and unshare)")
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from aoai.atomicfile import write_file, WriteError\n"
        f"d = Path({str(mount)!r})\n"
        "(d / 'evidence.json').write_text('old')\n"
        "try:\n"
        "    write_file(d / 'evidence.json', 'x' * 65536, what='evidence')\n"
        "except WriteError as e:\n"
        "    print('error:', e.message)\n"
        "print('content:', (d / 'evidence.json').read_text())\n"
        "print('files:', sorted(os.listdir(d)))\n"
    )
    result = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f'mount -t tmpfs -o size=16k tmpfs {mount} && exec "$0" -c "$1"',
            sys.executable,
            script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "error: cannot write evidence" in result.stdout and "No space left on device" in result.stdout
    assert "content: old" in result.stdout
    assert "files: ['evidence.json']" in result.stdout


def test_cli_evidence_to_a_fifo_is_written_through(aoai: AoaiRunner, tmp_path: Path) -> None:
    """Before: the evidence temp file was renamed over the FIFO, replacing it."""
    fifo = tmp_path / "evidence.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = aoai(
        "preflight",
        "run",
        "-g",
        "rg-aoai-demo",
        "--account",
        "aoai-ready",
        "--deployment",
        "chat=gpt-4.1@2025-04-14",
        "-o",
        "json",
        "--evidence",
        str(fifo),
    )
    reader.join(timeout=30)
    assert result.code == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received and received[0].startswith(b"{")


def test_cli_emulator_env_file_ignores_a_planted_tmp_link(aoai_bare: AoaiRunner, tmp_path: Path) -> None:
    """Before: ``--env-file F`` wrote ``F.tmp`` (0644, then chmod), following a planted link."""
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    env_file = tmp_path / "emu.env"
    (tmp_path / "emu.env.tmp").symlink_to(victim)
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", "emulator", "--port", "0", "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=aoai_bare.env,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        for _ in range(200):
            if env_file.exists():
                break
            threading.Event().wait(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert victim.read_text() == "untouched"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "AZURE_OPENAI_API_KEY" in env_file.read_text()
