"""The ``aoai`` command line: the root app, global options, and the one place that maps errors
to exit codes and one-line messages. Subcommand modules are thin: parse, call the core, render.
"""

from __future__ import annotations

import contextlib
import signal
import sys

import typer

from aoai import __version__
from aoai.atomicfile import WriteError
from aoai.cli import capacity as capacity_cmd
from aoai.cli import completion as completion_cmd
from aoai.cli import emulator as emulator_cmd
from aoai.cli import fleet as fleet_cmd
from aoai.cli import preflight as preflight_cmd
from aoai.cli import process
from aoai.cli import resp as resp_cmd
from aoai.cli.common import configure, defer_unset_coercion, state
from aoai.errors import AoaiError, ExitCode, Interrupted
from aoai.redaction import install_std_streams, register_secret, release_std_streams

app = typer.Typer(
    name="aoai",
    help="Azure OpenAI release-readiness checks (preflight), Responses API operations (resp), "
    "and a local emulator of both.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks with locals could show tokens
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    # Plain help: typer's rich help formatting imports ~60 ms of modules on every --help.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aoai {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Log HTTP method, URL, status, timing and request ids (secrets redacted)."
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour (also when NO_COLOR is set)."),
) -> None:
    configure(debug=debug, no_color=no_color)


app.add_typer(resp_cmd.app, name="resp")
app.add_typer(preflight_cmd.app, name="preflight")
emulator_cmd.register(app)
app.command("completion")(completion_cmd.completion)
preflight_cmd.app.command("capacity")(capacity_cmd.capacity)
preflight_cmd.app.command("fleet")(fleet_cmd.fleet)


def _print_error(error: AoaiError) -> None:
    text = error.one_line()
    signum = process.received_signal()
    if isinstance(error, Interrupted) and signum is not None and text.startswith("interrupted"):
        text = f"interrupted by {signal.Signals(signum).name}" + text[len("interrupted") :]
    sys.stderr.write(f"aoai: error: {text}\n")


def _usage_line(error: typer.TyperException) -> str:
    message = " ".join(error.format_message().split())
    ctx = getattr(error, "ctx", None)
    command = ctx.command_path if ctx is not None else "aoai"
    return f"aoai: error: {message} (see '{command} --help')\n"


# Secrets the environment hands us: known to the redactor before anything can print them.
SECRET_VARIABLES = (
    "AZURE_OPENAI_API_KEY",
    "AOAI_ACCESS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
)


def _run(argv: list[str] | None) -> int:
    """Run the command; every way it can end becomes one exit code (and at most one line)."""
    command = typer.main.get_command(app)
    try:
        # standalone_mode=False: usage errors reach us, so they too become one line (exit 2).
        try:
            result = command.main(args=argv, prog_name="aoai", standalone_mode=False)
        except SystemExit:
            if process.stdout_pipe_broke():  # click turns EPIPE into exit 1; ours is 141
                return process.after_broken_pipe()
            raise
        process.flush_stdout()  # what is still buffered must reach the reader: a failure counts
        return result if isinstance(result, int) else 0
    except typer.TyperException as error:
        if error.format_message().strip():  # empty for "no arguments: help shown"
            sys.stderr.write(_usage_line(error))
        return int(getattr(error, "exit_code", ExitCode.USAGE))
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, with one documented code.
        return process.after_broken_pipe()
    except AoaiError as error:
        _print_error(error)
        return process.interrupted_exit_code() if isinstance(error, Interrupted) else int(error.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        signum = process.received_signal()
        sys.stderr.write(f"aoai: interrupted{f' by {signal.Signals(signum).name}' if signum else ''}\n")
        return process.interrupted_exit_code()
    except OSError as error:
        if state().debug:
            raise
        # A file or stream the command wrote to failed (disk full, read-only, closed): exit 4.
        where = f" {error.filename}" if error.filename else ""
        _print_error(WriteError(f"cannot write{where}: {error.strerror or error}"))
        return int(ExitCode.INCOMPLETE)
    except Exception as error:
        if state().debug:
            raise
        sys.stderr.write(
            f"aoai: internal error: {type(error).__name__}: {error} "
            "— rerun with --debug for the traceback and please report it\n"
        )
        return int(ExitCode.INCOMPLETE)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every byte written to stdout and stderr from here on passes
    through the redactor; expected errors become one line and an exit code; closed or failing
    std streams and SIGTERM / SIGHUP are handled (``aoai.cli.process``)."""
    defer_unset_coercion()
    saved = sys.stdin, sys.stdout, sys.stderr
    process.reserve_closed_descriptors()  # first: nothing may open a file onto fd 0, 1 or 2
    install_std_streams()
    for name in SECRET_VARIABLES:
        register_secret(state().env.get(name))
    redacted = sys.stdout, sys.stderr
    process.guard_standard_streams()
    try:
        with process.signals_handled():
            try:
                code = _run(argv)
            except BrokenPipeError:  # while printing an error line to a closed pipe
                code = process.after_broken_pipe()
        # After a failure the outcome's code stands; whatever is still buffered goes or is dropped.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, WriteError):
                stream.flush()
        sys.stdout, sys.stderr = redacted
        release_std_streams()
        process.release_standard_streams()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    sys.exit(code)
