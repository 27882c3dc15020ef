"""What a command-line process owes its surroundings, whatever they do to it.

- **Closed standard streams** (``>&-``, ``2>&-``, ``<&-``): the descriptor is reserved at once (so
  no file the command opens can land on fd 1 and receive its output), and using it fails as
  closed: reading stdin is a usage error, writing stdout a write failure.
- **stdout that cannot be written** (``/dev/full``, a full disk, a closed descriptor): one line
  and exit 4 (``WriteError``), unless the command had already failed — its exit code stands.
- **A reader that goes away** (``| head -c 10``): stop quietly with exit 141 (128 + SIGPIPE, what
  the shell reports for any program stopped by a closed pipe), never a traceback.
- **stderr that cannot be written**: diagnostics are dropped, the exit code is unchanged.
- **SIGTERM / SIGHUP** (CI cancellation, a closed SSH session): handled like Ctrl-C — the command
  saves what it must (a stream's journal cursor), prints how to resume, and exits 128 + the
  signal (143 / 129). A second signal of the same kind ends the process at once.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn, TextIO, cast

from aoai.atomicfile import WriteError
from aoai.errors import ExitCode

BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE  # 141
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class SignalInterrupt(KeyboardInterrupt):
    """SIGTERM / SIGHUP, raised where Ctrl-C would be, so every Ctrl-C path handles them too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []


def received_signal() -> int | None:
    """The SIGTERM / SIGHUP that stopped this command, if one did."""
    return _received[0] if _received else None


def interrupted_exit_code() -> int:
    signum = received_signal()
    return 128 + signum if signum is not None else int(ExitCode.INTERRUPTED)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once
    raise SignalInterrupt(signum)


@contextmanager
def signals_handled() -> Iterator[None]:
    previous = {signum: signal.signal(signum, _on_signal) for signum in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# -- standard streams ---------------------------------------------------------------------------


def reserve_closed_descriptors() -> None:
    """Open /dev/null on 0, 1 or 2 when closed, the wrong way round (stdin write-only, stdout and
    stderr read-only), so the descriptor is taken and using it fails with EBADF, as closed."""
    for fd, flags in ((0, os.O_WRONLY), (1, os.O_RDONLY), (2, os.O_RDONLY)):
        try:
            os.fstat(fd)
        except OSError:
            reserved = os.open(os.devnull, flags)
            if reserved != fd:
                os.dup2(reserved, fd)
                os.close(reserved)
    # Python leaves sys.stdin/stdout/stderr None for a descriptor closed at start-up. The streams
    # made here are kept referenced: wrappers put on top must not see them collected (and closed).
    if sys.stdin is None:
        sys.stdin = _keep(io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"))
    if sys.stdout is None:
        sys.stdout = _keep(io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8"))
    if sys.stderr is None:
        sys.stderr = _keep(io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8"))


_kept: list[TextIO] = []


def _keep(stream: TextIO) -> TextIO:
    _kept.append(stream)
    return stream


def _silence(fd: int) -> None:
    """Point ``fd`` at /dev/null, so the interpreter's last flush cannot fail noisily."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except OSError:
        pass


class _GuardedOutput:
    """stdout: a write failure becomes ``WriteError`` (one line, exit 4); a broken pipe stays
    ``BrokenPipeError`` (quiet exit 141). Once failed, every later write fails the same way (a
    probe that swallowed the first error must not make the output look delivered)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.error: OSError | None = None

    def _raise(self) -> NoReturn:
        exc = self.error
        assert exc is not None
        if isinstance(exc, BrokenPipeError):
            raise BrokenPipeError(exc.errno, exc.strerror)
        reason = "it is closed" if exc.errno == errno.EBADF else exc.strerror or str(exc)
        raise WriteError(f"cannot write to standard output: {reason}")

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                return self._stream.write(text)
            except OSError as exc:
                self.error = exc
        self._raise()

    def flush(self) -> None:
        if self.error is None:
            try:
                self._stream.flush()
                return
            except OSError as exc:
                self.error = exc
        self._raise()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_guards: list[_GuardedOutput] = []
_quiet: list[_QuietErrors] = []


class _QuietErrors:
    """stderr: when diagnostics cannot be written, drop them — the exit code still tells."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                self._stream.write(text)
            except OSError:
                self.failed = True
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._stream.flush()
            except OSError:
                self.failed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_standard_streams() -> None:
    """Run once at start-up, before anything opens a file or writes."""
    reserve_closed_descriptors()
    if not isinstance(sys.stdout, _GuardedOutput):
        guard = _GuardedOutput(sys.stdout)
        _guards[:] = [guard]
        sys.stdout = cast(TextIO, guard)
    if not isinstance(sys.stderr, _QuietErrors):
        quiet = _QuietErrors(sys.stderr)
        _quiet[:] = [quiet]
        sys.stderr = cast(TextIO, quiet)


def flush_stdout() -> None:
    """The last flush, inside the command's error handling (raises like any write)."""
    try:
        sys.stdout.flush()
    except OSError as exc:  # an unguarded stream (tests that swap sys.stdout)
        if isinstance(exc, BrokenPipeError):
            raise
        raise WriteError(f"cannot write to standard output: {exc.strerror or exc}") from None


def stdout_pipe_broke() -> bool:
    """Whether writing stdout met a closed pipe (even if something swallowed or re-wrapped it)."""
    return any(isinstance(guard.error, BrokenPipeError) for guard in _guards)


def release_standard_streams() -> None:
    """At the very end: a stream that failed points at /dev/null, so the interpreter's own last
    flush of what is still buffered cannot fail noisily (or change the exit code to 120)."""
    if any(guard.error is not None for guard in _guards):
        _silence(1)
    if any(quiet.failed for quiet in _quiet):
        _silence(2)


def after_broken_pipe() -> int:
    """The reader went away: nothing more can be delivered; say nothing, exit 141."""
    _silence(1)
    return BROKEN_PIPE_EXIT
