"""FireWorks' ``QueueAdapterBase``: the class FireWorks users subclass for a batch system
of their own (``fireworks.queue.queue_adapter``).

A subclass sets ``template_file`` (a script whose ``$${name}`` placeholders its dict
items fill) and implements ``submit_to_queue`` and ``get_njobs_in_queue``; the queue
launcher API (``queue_launcher``) takes it as it takes a ``CommonAdapter``.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import string
import subprocess
import warnings
from typing import Any, Optional

from launchpad.serializable import FWSerializable, serialize_fw


class QScriptTemplate(string.Template):
    """A submit script template: FireWorks' ``$${name}`` placeholders (``$$`` delimiter)."""

    delimiter = "$$"


class Command:
    """FireWorks' helper for a scheduler command run with a time limit, which adapters of
    one's own call as ``Command("squeue -u me").run(timeout=30)``."""

    def __init__(self, command):
        self.command = shlex.split(command) if isinstance(command, str) else list(command)
        self.status, self.output, self.error = None, "", ""

    def run(self, timeout: Optional[float] = None, **kwargs):
        """``(exit status, stdout, stderr)``; past ``timeout`` seconds the command is
        terminated (a negative status); one that cannot start gives status -1."""
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        try:
            process = subprocess.Popen(self.command, **kwargs)
        except (OSError, ValueError) as exc:
            self.status, self.error = -1, f"cannot run {self.command[:1]}: {exc}"
            return self.status, self.output, self.error
        try:
            output, error = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            output, error = process.communicate()
        self.output = output.decode("utf-8") if isinstance(output, bytes) else output
        self.error = error.decode("utf-8") if isinstance(error, bytes) else error
        self.status = process.returncode
        return self.status, self.output, self.error


_PLACEHOLDER = re.compile(r"\$\$\{?(\w+)")


class QueueAdapterBase(dict, FWSerializable):
    """A qadapter: a dict of template values with the methods a queue launcher calls.

    FireWorks' is a ``defaultdict`` without a default factory, which behaves as this
    dict does (a missing key is a KeyError) but cannot be copied or pickled."""

    _fw_name = "QueueAdapterBase"
    template_file = "OVERRIDE_ME"  # the script template, with $${name} placeholders
    submit_cmd = "OVERRIDE_ME"  # e.g. sbatch, qsub
    q_name = "OVERRIDE_ME"  # any name, for logs
    defaults: dict = {}  # template values used when the dict has none

    def get_script_str(self, launch_dir: str) -> str:
        """The submit script: the template filled with this dict's values (None values
        left out), ``defaults`` under them, ``job_name`` FW_job unless set and
        ``launch_dir``; a line whose placeholder stays unfilled is dropped, as in FireWorks."""
        with open(self.template_file, encoding="utf-8") as handle:
            template = handle.read()
        placeholders = set(_PLACEHOLDER.findall(template))
        values = {k: v for k, v in self.items() if v is not None}
        for key in values:
            if key not in placeholders and not key.startswith("_") and key != "logdir":
                warnings.warn(
                    f"qadapter key {key} is not in the template {self.template_file}; it is not used",
                    stacklevel=2,
                )
        for key, value in self.defaults.items():
            values.setdefault(key, value)
        values.setdefault("job_name", "FW_job")
        values["launch_dir"] = os.path.abspath(launch_dir)
        filled = QScriptTemplate(template).safe_substitute(values)
        return "\n".join(line for line in filled.split("\n") if "$$" not in line)

    def submit_to_queue(self, script_file: str) -> Any:
        """Submit ``script_file``; the job id, or a false value when it failed."""
        raise NotImplementedError(f"{type(self).__name__} does not define submit_to_queue()")

    def get_njobs_in_queue(self, username: Optional[str] = None) -> Optional[int]:
        """How many jobs the user has queued or running (None if the scheduler cannot say)."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_njobs_in_queue()")

    @serialize_fw
    def to_dict(self) -> dict:
        return dict(self)

    @classmethod
    def from_dict(cls, m_dict: dict) -> QueueAdapterBase:
        return cls(m_dict)

    def get_qlogger(self, name: str) -> logging.Logger:
        """A logger for this adapter's messages (FireWorks writes them to ``logdir``)."""
        return logging.getLogger(f"queue_adapters.{name}")


__all__ = ["QueueAdapterBase", "QScriptTemplate", "Command"]
