"""One exception hierarchy for the whole project.

Every error a user can cause or fix is a ``StarshellError``; the CLI turns
these into one-line messages and exit codes, the web GUI into HTTP statuses.
Anything else escaping is a bug and keeps its traceback.
"""


class StarshellError(Exception):
    """Root of every error starshell raises on purpose."""

    exit_code = 1
    http_status = 400


class ConfigError(StarshellError):
    """A configuration file or option is missing, unreadable or wrong."""

    exit_code = 2


class WorkflowFileError(StarshellError):
    """A workflow or firework file cannot be read; the message names file and line."""

    exit_code = 2

    def __init__(self, message, path=None, line=None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class InvalidWorkflowError(StarshellError):
    """A workflow's structure is wrong: a cycle, a link to a missing id, a duplicate id."""

    exit_code = 2


class UnknownTaskError(InvalidWorkflowError):
    """A ``_fw_name`` names no registered Firetask."""


class AmbiguousTaskError(UnknownTaskError):
    """A short ``_fw_name`` is declared by two classes; only a ``{{module.Class}}`` name can say which."""


class TaskNameWarning(UserWarning):
    """A Firetask class declares a short name another class already has (see AmbiguousTaskError)."""


class InvalidQueryError(StarshellError):
    """A user query is not valid JSON, or uses an operator we refuse to run."""

    exit_code = 2


class QueryTimeoutError(InvalidQueryError):
    """A query ran past its time budget and was stopped, so it cannot hold the store or the GUI."""


class InvalidArgumentError(StarshellError):
    """A value given to a command has the wrong type or range."""

    exit_code = 2


class NotFoundError(StarshellError):
    """A firework, workflow or launch id does not exist."""

    exit_code = 3
    http_status = 404


class InvalidTransitionError(StarshellError):
    """A firework cannot move from its current state to the one asked for."""

    exit_code = 4
    http_status = 409


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


class QueueError(StarshellError):
    """The batch system refused a command; the message carries its own words."""

    exit_code = 6
