"""The one way ``aoai`` writes a file: redacted, atomic, never replacing what is not ours.

Every file the tool writes (evidence, ``compact --save``, ``--continue`` transcripts, the
emulator's env file, generated images, the GitHub step summary) goes through :func:`write_file`
or :func:`append_text`, so three promises hold in one place:

- no secret reaches a file: text passes through :func:`aoai.redaction.redact`;
- a reader sees the old content or the new, never half: the data goes to a temp file created
  with ``O_EXCL`` and mode 0600 under a random name in the target's directory (so a planted
  link cannot redirect it and it is never readable by others while written), is flushed and
  fsync-ed, then renamed over the target; on any failure the temp file is removed;
- a target that exists and is not a regular file is not replaced: a character device or a FIFO
  (``/dev/stdout``, a named pipe, a link to one) is written through, anything else (a directory,
  a block device, a socket) is refused with one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from aoai.errors import AoaiError, ExitCode, UsageError
from aoai.redaction import redact, redact_bytes

PRIVATE_MODE = 0o600
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class WriteError(AoaiError):
    """A file could not be written (disk full, read-only, permission): nothing was left behind."""

    exit_code = ExitCode.INCOMPLETE


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _encode(data: str | bytes) -> bytes:
    if isinstance(data, str):
        return redact(data).encode("utf-8")
    return redact_bytes(data)


def _describe(what: str, path: Path) -> str:
    return f"{what} {path}" if what else str(path)


def _resolve_target(path: Path, what: str) -> tuple[Path, os.stat_result | None]:
    """The file to replace (a link to a regular file is followed, so the link stays) and its
    status; None when nothing is there yet (a dangling link is replaced, never followed)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path, None
    except OSError as exc:
        raise UsageError(f"cannot write {_describe(what, path)}: {exc.strerror or exc}") from exc
    if stat.S_ISREG(info.st_mode):
        return (Path(os.path.realpath(path)) if path.is_symlink() else path), info
    return path, info


def _write_through(path: Path, payload: bytes, what: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except OSError as exc:
        raise WriteError(f"cannot write {_describe(what, path)}: {exc.strerror or exc}") from exc


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    for _ in range(16):
        candidate = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(candidate, _OPEN_FLAGS, PRIVATE_MODE), candidate
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory))


def write_file(path: Path | str, data: str | bytes, *, what: str = "", private: bool = False) -> Path:
    """Replace ``path`` with ``data`` (text is UTF-8 and redacted) atomically; returns the path written.

    ``what`` names the file in messages ("evidence", "--save"). A new file gets mode 0600 when
    ``private`` (it holds a conversation or credentials), else what ``open()`` would give; an
    existing file keeps its mode. Raises :class:`UsageError` when
    the directory is missing or the target is not a file we may replace, :class:`WriteError`
    when writing fails (nothing half-written remains).
    """
    path = Path(path).expanduser()
    payload = _encode(data)
    target, existing = _resolve_target(path, what)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if stat.S_ISCHR(existing.st_mode) or stat.S_ISFIFO(existing.st_mode):
            _write_through(path, payload, what)
            return path
        kind = "a directory" if stat.S_ISDIR(existing.st_mode) else "not a regular file"
        raise UsageError(
            f"cannot write {_describe(what, path)}: it is {kind}", hint="give the path of a file to create or replace"
        )
    directory = target.parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {_describe(what, path)}: directory {directory} does not exist")
    new_mode = PRIVATE_MODE if private else 0o666 & ~_umask()
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else new_mode
    temp: Path | None = None
    try:
        fd, temp = _create_temp(directory, target.name)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            if mode != PRIVATE_MODE:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temp, target)
        temp = None
    except OSError as exc:
        raise WriteError(f"cannot write {_describe(what, path)}: {exc.strerror or exc}; nothing was written") from exc
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    return target


def append_text(path: Path | str, text: str, *, what: str = "") -> None:
    """Append redacted ``text`` to ``path`` (e.g. ``GITHUB_STEP_SUMMARY``), created if missing.

    Appending is not atomic by nature; a directory or other non-file target is refused.
    """
    path = Path(path).expanduser()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(f"cannot append to {_describe(what, path)}: {exc.strerror or exc}") from exc
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot append to {_describe(what, path)}: it is a directory")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            view = memoryview(_encode(text))
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except OSError as exc:
        raise WriteError(f"cannot append to {_describe(what, path)}: {exc.strerror or exc}") from exc
