"""What every scheduler adapter shares: rendering, running commands, errors.

Commands go through an injected ``run_command(argv, cwd=None, timeout=...)``
returning ``(returncode, stdout, stderr)``, so unit tests replay recorded
scheduler output and only the real-Slurm tests touch a real batch system.
"""

from __future__ import annotations

import getpass
import re
import shlex
import subprocess
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Optional, Sequence, Tuple, Union

from launchpad.errors import ConfigError, QueueError

from ..config import QAdapterConfig, walltime_seconds

DEFAULT_TIMEOUT = 120.0

RunCommand = Callable[..., Tuple[int, str, str]]


def run_subprocess(
    argv: Sequence[str], cwd: Optional[Union[str, Path]] = None, timeout: float = DEFAULT_TIMEOUT
) -> Tuple[int, str, str]:
    """The real ``run_command``: never raises, so every failure reaches one error path."""
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as exc:
        return 127, "", f"cannot run {argv[0]}: {exc.strerror}: {exc.filename}"
    except subprocess.TimeoutExpired:
        return 124, "", f"{argv[0]} gave no answer within {timeout:g} s"
    return proc.returncode, proc.stdout, proc.stderr


class JobState(str, Enum):
    """A batch job's state in one vocabulary for every scheduler."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"  # the scheduler said something we do not map

    def __str__(self):
        return self.value

    @property
    def finished(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT)


_PLACEHOLDER = re.compile(r"\$\$\{(\w+)\}")


def render_template(text: str, values: Mapping[str, Any]) -> str:
    """Fill ``$${name}`` placeholders; a line naming an unset (None or "") value drops out.

    Dropping whole lines lets one template serve every option without emitting
    ``#SBATCH --account=None``; a single ``$`` is left alone for the shell.
    """
    lines = []
    for line in text.splitlines(keepends=True):
        names = _PLACEHOLDER.findall(line)
        if any(values.get(name) in (None, "") for name in names):
            continue
        lines.append(_PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), line))
    return "".join(lines)


def hms(seconds: int) -> str:
    """HH:MM:SS with hours past 24, the walltime form PBS and SGE read."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class QueueAdapter:
    """One batch system: its template, and how to submit, count, query and cancel.

    Subclasses set the class attributes and implement ``_submit_argv``,
    ``_parse_job_id``, ``count_jobs`` and ``job_state``.
    """

    q_type: ClassVar[str]
    template_name: ClassVar[str]
    # _q_commands_override key -> default executable
    commands: ClassVar[Mapping[str, str]]
    # stderr of a cancel that only says the job is already gone
    cancel_gone: ClassVar[Optional[re.Pattern]] = None

    def __init__(
        self,
        config: QAdapterConfig,
        run_command: RunCommand = run_subprocess,
        user: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        unknown = sorted(set(config.commands_override) - set(self.commands))
        if unknown:
            raise ConfigError(
                f"{config.source}: _q_commands_override: {', '.join(unknown)} "
                f"not used by {self.q_type}; known: {', '.join(self.commands)}"
            )
        self.config = config
        self.run_command = run_command
        self.user = user or getpass.getuser()
        self.timeout = timeout
        self._exe = {
            key: shlex.split(config.commands_override.get(key, default))
            for key, default in self.commands.items()
        }

    @property
    def job_name(self) -> str:
        """The name the launcher counts its pilots by (FireWorks' default: FW_job)."""
        return self.config.params["job_name"]

    @property
    def queue(self) -> Optional[str]:
        """The qadapter's ``queue`` (partition) its jobs go to and are counted in; None:
        the scheduler's default, and every queue is counted (as FireWorks counts)."""
        return self.config.params.get("queue") or None

    def __repr__(self):
        return f"{type(self).__name__}(source={self.config.source!r})"

    # ------------------------------------------------------------ the script
    def template_text(self) -> str:
        if self.config.template_text is not None:
            return self.config.template_text
        return (
            resources.files("queue_adapters")
            .joinpath("templates", self.template_name)
            .read_text(encoding="utf-8")
        )

    def walltime_seconds(self, overrides: Optional[Mapping[str, Any]] = None) -> Optional[int]:
        """The job's walltime in seconds, so a pilot can stop before it is killed."""
        return walltime_seconds(self.config.merged(overrides).get("walltime"))

    def format_walltime(self, seconds: int) -> str:
        return hms(seconds)

    def template_values(self, overrides: Optional[Mapping[str, Any]] = None) -> dict:
        """The qadapter values, a firework's ``_queueadapter`` on top, walltime normalised."""
        values = self.config.merged(overrides)
        seconds = walltime_seconds(values.get("walltime"))
        values["walltime"] = self.format_walltime(seconds) if seconds else None
        return values

    def render(self, overrides: Optional[Mapping[str, Any]] = None) -> str:
        return render_template(self.template_text(), self.template_values(overrides))

    def write_script(self, path: Union[str, Path], overrides: Optional[Mapping[str, Any]] = None) -> Path:
        path = Path(path)
        path.write_text(self.render(overrides), encoding="utf-8")
        path.chmod(0o755)
        return path

    # ------------------------------------------------------------ the scheduler
    def submit(self, script: Union[str, Path], cwd: Optional[Union[str, Path]] = None) -> str:
        """Submit a script and return the scheduler's job id."""
        argv = self._submit_argv(str(script))
        _, out, err = self._call(argv, cwd=cwd)
        job_id = self._parse_job_id(out)
        if not job_id:
            raise QueueError(
                f"{shlex.join(argv)} printed no job id: {(out.strip() or err.strip() or 'no output')[:500]}"
            )
        return job_id

    def count_jobs(self, job_name: Optional[str] = None, queue: Optional[str] = None) -> int:
        """This user's queued and running jobs, only those named ``job_name`` and in
        ``queue`` (partition) if given: FireWorks counts a CommonAdapter's own queue."""
        raise NotImplementedError

    def job_state(self, job_id: str) -> Optional[JobState]:
        """The job's state, or None when the scheduler has no record of it."""
        raise NotImplementedError

    def cancel(self, job_id: str) -> None:
        """Cancel a job; a job that already ended is not an error."""
        argv = self._cmd("cancel_cmd", str(job_id))
        rc, out, err = self._call(argv, check=False)
        if rc != 0 and not (self.cancel_gone and self.cancel_gone.search(err + out)):
            raise QueueError(self._failure(argv, rc, out, err))

    def _submit_argv(self, script: str) -> list:
        raise NotImplementedError

    def _parse_job_id(self, stdout: str) -> Optional[str]:
        raise NotImplementedError

    # ------------------------------------------------------------ helpers
    def _cmd(self, key: str, *args: str) -> list:
        return [*self._exe[key], *args]

    def _call(self, argv: Sequence[str], cwd=None, check: bool = True) -> Tuple[int, str, str]:
        rc, out, err = self.run_command(list(argv), cwd=cwd, timeout=self.timeout)
        if check and rc != 0:
            raise QueueError(self._failure(argv, rc, out, err))
        return rc, out, err

    @staticmethod
    def _failure(argv: Sequence[str], rc: int, out: str, err: str) -> str:
        """The scheduler's own words: FireWorks hid them, leaving users guessing."""
        said = (err.strip() or out.strip() or "no output")[:2000]
        return f"{shlex.join(argv)} failed with exit code {rc}: {said}"
