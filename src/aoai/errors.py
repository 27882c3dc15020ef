"""Typed errors, each carrying its exit code and a one-line message for the user.

The tree follows "never sent" versus "the service said no" (httpx, Azure SDK guidelines):
usage and auth problems are found before any request; transport errors mean the request may
not have reached the service; service errors carry the HTTP status, the error code and the
request id the service gave. Only ``aoai.cli`` turns these into exit codes and text.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every command (DESIGN.md, "Exit codes")."""

    OK = 0
    NOT_READY = 1  # preflight verdict "not ready"; a waited-on response failed / incomplete / cancelled
    USAGE = 2  # bad input; Click's convention for usage errors
    AUTH = 3  # no credential, 401, 403
    INCOMPLETE = 4  # a check could not be evaluated; service or network failed after retries
    NOT_FOUND = 5
    INTERRUPTED = 130  # 128 + SIGINT, the shell convention for Ctrl-C


class AoaiError(Exception):
    """Base of every expected error. ``message`` is one line; ``hint`` says how to fix it."""

    exit_code: ExitCode = ExitCode.INCOMPLETE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        if self.hint:
            text += f" — {' '.join(self.hint.split())}"
        return text


class UsageError(AoaiError):
    """Bad input found before anything was sent."""

    exit_code = ExitCode.USAGE


class AuthError(AoaiError):
    """No usable credential, or the service refused it."""

    exit_code = ExitCode.AUTH


class NotFoundError(AoaiError):
    exit_code = ExitCode.NOT_FOUND


class TransportError(AoaiError):
    """The network failed (connect, TLS, timeout, broken body) after retries."""

    exit_code = ExitCode.INCOMPLETE


class ServiceError(AoaiError):
    """The service answered with an error status.

    The exit code follows the status: 401/403 -> auth, 404 -> not found, 400/409/422 -> usage
    (the request itself was wrong), anything else -> incomplete.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.request_id = request_id
        if status in (401, 403):
            self.exit_code = ExitCode.AUTH
        elif status == 404:
            self.exit_code = ExitCode.NOT_FOUND
        elif status in (400, 409, 422):
            self.exit_code = ExitCode.USAGE
        else:
            self.exit_code = ExitCode.INCOMPLETE

    def one_line(self) -> str:
        prefix = f"{self.status}"
        if self.code and self.code != str(self.status):  # Azure OpenAI repeats the status as the code
            prefix += f" {self.code}"
        text = f"{prefix}: {' '.join(self.message.split())}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        if self.hint:
            text += f" — {' '.join(self.hint.split())}"
        return text


class StreamInterrupted(AoaiError):
    """A stream broke and could not be (or may not be) resumed."""

    exit_code = ExitCode.INCOMPLETE

    def __init__(
        self, message: str, *, response_id: str | None, last_sequence: int | None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.response_id = response_id
        self.last_sequence = last_sequence


class ResponseEnded(AoaiError):
    """A response the user waited on ended failed, incomplete or cancelled."""

    exit_code = ExitCode.NOT_READY


class Interrupted(AoaiError):
    """Ctrl-C, after the command printed how to pick up where it left off."""

    exit_code = ExitCode.INTERRUPTED
