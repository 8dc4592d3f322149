"""One error path for ``lpad``, ``rlaunch`` and ``qlaunch``: an exception becomes one
line on stderr and the exit code the README documents, the same in all three.

1 refused, 2 bad input, 3 unknown id, 4 illegal state change, 5 store unreachable,
6 batch system refused (each ``StarshellError`` carries its ``exit_code``); 130
interrupted by Ctrl-C, 143 by SIGTERM (by the signal number, never the message);
a closed pipe (``lpad get_fws | head``) is not an error; anything else is a bug:
one line that says so, the traceback with ``--debug``.
"""

import os
import signal
import sys
import traceback

from ..errors import Interrupted, StarshellError
from ..redact import redact_text

EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # 128 + SIGTERM: any other stop signal (scancel, a walltime)
EXIT_UNEXPECTED = 1  # what Python itself exits with on an uncaught exception

# What a CLI's ``except`` clause hands to ``report`` (SystemExit is argparse's).
HANDLED = (Exception, KeyboardInterrupt, Interrupted)


def exit_code(exc):
    """The documented exit code for ``exc``."""
    if isinstance(exc, StarshellError):
        return exc.exit_code
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        signum = getattr(exc, "signum", None)
        return EXIT_INTERRUPTED if signum in (None, signal.SIGINT) else EXIT_TERMINATED
    if isinstance(exc, BrokenPipeError):
        return 0
    return EXIT_UNEXPECTED


def one_line(exc, secrets=()):
    """``exc``'s message on one line, with credentials and ``secrets`` blanked."""
    message = redact_text(str(exc), [s for s in secrets if s])
    return " | ".join(line.strip() for line in message.splitlines() if line.strip())


def message(exc, prog, prefix="", secrets=(), interrupted_note=None):
    """The line ``report`` prints, or None (a closed pipe says nothing)."""
    if isinstance(exc, BrokenPipeError):
        return None
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        text = one_line(exc, secrets) or "interrupted"
        return f"{prog}: {text}" + (f"; {interrupted_note}" if interrupted_note else "")
    if isinstance(exc, StarshellError):
        return f"{prefix}error: {one_line(exc, secrets)}"
    return (
        f"{prefix}error: unexpected {type(exc).__name__}: {one_line(exc, secrets)} "
        f"(run with --debug for the traceback)"
    )


def report(exc, prog, prefix="", debug=False, secrets=(), interrupted_note=None):
    """Print ``exc`` as the CLIs do (the traceback first with ``debug``); return the exit code."""
    if isinstance(exc, BrokenPipeError):
        _silence_stdout()  # the reader left: nothing is wrong, and no second error at exit
        return 0
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    print(message(exc, prog, prefix, secrets, interrupted_note), file=sys.stderr)
    return exit_code(exc)


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
