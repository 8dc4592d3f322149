"""One exception hierarchy for the whole project.

Every error a user can cause or fix is a ``StarshellError``; the CLI turns
these into one-line messages and exit codes, the web GUI into HTTP statuses.
Anything else escaping is a bug and keeps its traceback.

Where FireWorks raises a builtin in the same situation (ValueError for bad
ids, links, parameters and reset passwords; RuntimeError for a missing task
parameter or a refused queue submission), our error also derives from it, so
a ported ``except ValueError`` keeps working.
"""


class StarshellError(Exception):
    """Root of every error starshell raises on purpose."""

    exit_code = 1
    http_status = 400


class Interrupted(BaseException):
    """A stop signal turned into an exception (rlaunch's RocketInterrupted, qlaunch's
    SIGTERM); ``signum`` says which, so the exit code never depends on the message.
    A BaseException, like KeyboardInterrupt, so a task's ``except Exception`` cannot swallow it."""

    def __init__(self, message="", signum=None):
        super().__init__(message)
        self.signum = signum


class ConfigError(StarshellError):
    """A configuration file or option is missing, unreadable or wrong."""

    exit_code = 2


class WorkflowFileError(StarshellError, ValueError):
    """A workflow or firework file cannot be read; the message names file and line."""

    exit_code = 2

    def __init__(self, message, path=None, line=None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class InvalidWorkflowError(StarshellError, ValueError):
    """A workflow's structure is wrong: a cycle, a link to a missing id, a duplicate id
    (a ValueError, as FireWorks raises there)."""

    exit_code = 2


class FWSerializationError(InvalidWorkflowError):
    """An object cannot be built from its dict: no class has its ``_fw_name`` (FireWorks' name)."""


class FWFormatError(InvalidWorkflowError):
    """A serialization format other than json or yaml was asked for (FireWorks' name)."""


class UnknownTaskError(FWSerializationError):
    """A ``_fw_name`` names no registered Firetask."""


class MissingTaskParameterError(UnknownTaskError, RuntimeError):
    """A Firetask lacks a ``required_params`` entry (a RuntimeError, as in FireWorks)."""


class UnexpectedTaskParameterError(UnknownTaskError, RuntimeError):
    """A Firetask that lists its ``optional_params`` got a keyword it does not list (a
    RuntimeError, as in FireWorks)."""


class AmbiguousTaskError(UnknownTaskError):
    """A short ``_fw_name`` is declared by two classes; only a ``{{module.Class}}`` name can say which."""


class TaskNameWarning(UserWarning):
    """A Firetask class declares a short name another class already has (see AmbiguousTaskError)."""


class FWValueError(ValueError):
    """FireWorks' own ValueError (``fireworks.utilities.exceptions``): a base of starshell's
    errors for a missing id, a bad argument or a bad query, so a ported
    ``except FWValueError`` catches them."""


class LockedWorkflowError(StarshellError, ValueError):
    """FireWorks' error for a workflow whose WFLock could not be taken, kept for ported
    imports and ``except`` clauses: starshell never raises it, as it has no WFLock (each
    change is one atomic store operation)."""


class InvalidQueryError(StarshellError, FWValueError):
    """A user query is not valid JSON, or uses an operator we refuse to run."""

    exit_code = 2


class QueryTimeoutError(InvalidQueryError):
    """A query ran past its time budget and was stopped, so it cannot hold the store or the GUI."""


class InvalidArgumentError(StarshellError, FWValueError):
    """A value given to a command has the wrong type or range."""

    exit_code = 2


class NoRawCollectionError(StarshellError, AttributeError):
    """``lp.fireworks``/``lp.launches``/``lp.workflows``/``lp.db`` on a store that has no
    MongoDB collections (an AttributeError, so ``hasattr`` answers False)."""

    exit_code = 2


class NotFoundError(StarshellError, FWValueError):
    """A firework, workflow or launch id does not exist (FireWorks raises ValueError)."""

    exit_code = 3
    http_status = 404


class InvalidTransitionError(StarshellError):
    """A firework cannot move from its current state to the one asked for."""

    exit_code = 4
    http_status = 409


class ResetRefusedError(StarshellError, ValueError):
    """``LaunchPad.reset`` was not given today's date as its password (FireWorks raises ValueError)."""


class StaleLaunchError(StarshellError):
    """A launch's result arrived after the firework was rerun, defused or declared lost."""

    exit_code = 4
    http_status = 409


class StoreUnavailableError(StarshellError):
    """The database cannot be reached or stays locked after retries."""

    exit_code = 5
    http_status = 503


class GatewayAuthError(ConfigError):
    """The gateway refused this client's token (missing, wrong or revoked)."""

    http_status = 401


class GatewayRefusedError(StarshellError):
    """An operation the gateway does not offer (it changes the store, or reads too much)."""

    exit_code = 2
    http_status = 403


class TaskError(StarshellError):
    """A Firetask failed in a way the rocket records on the launch."""


class TaskValueError(TaskError, ValueError):
    """A task's input is wrong where FireWorks' task raises ValueError (an empty FilePad
    query, a file name used twice), so a port's ``except ValueError`` still catches it."""


class QueueError(StarshellError, RuntimeError):
    """The batch system refused a command; the message carries its own words."""

    exit_code = 6


class ImportConflictError(StarshellError):
    """Ids of a FireWorks database being imported are taken in the target store."""

    exit_code = 2


class DrawingError(StarshellError):
    """A workflow picture cannot be made: Graphviz's ``dot`` is missing or refused."""

    exit_code = 2
