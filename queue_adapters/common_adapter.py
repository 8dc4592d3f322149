"""FireWorks' ``CommonAdapter``: a qadapter as a dict-like object over the per-system
adapters (``adapters/``), for scripts that build, save or submit one from Python.

Its serialized form is ``my_qadapter.yaml``'s (``_fw_name: CommonAdapter``,
``_fw_q_type``, the template values), so ``CommonAdapter.from_file`` reads the
files qlaunch reads, and ``to_file`` writes one qlaunch accepts. As FireWorks',
``submit_to_queue`` and ``get_njobs_in_queue`` log a failure and return None.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Optional

from launchpad.errors import ConfigError, InvalidArgumentError, StarshellError

from .adapters import ADAPTERS, DEFAULT_TIMEOUT, QueueAdapter, get_adapter
from .config import Q_TYPES, load_qadapter
from .queue_adapter import QueueAdapterBase

log = logging.getLogger("queue_adapters")

# Stands in for an unset rocket_launch; lines holding it leave the script.
_NO_ROCKET_LAUNCH = "<no rocket_launch set>"
# FireWorks' name for LSF in a CommonAdapter's q_type.
_ALIASES = {"LOADSHARINGFACILITY": "LSF"}


class CommonAdapter(QueueAdapterBase):
    """``CommonAdapter(q_type, q_name=None, template_file=None, timeout=None, **kwargs)``:
    the keyword arguments are the template's values (``rocket_launch``, ``nodes``,
    ``walltime``, ``queue``...), kept as the dict's items, as in FireWorks."""

    _fw_name = "CommonAdapter"
    _dates_from_text = False  # template values stay as written

    def __init__(
        self,
        q_type: str,
        q_name: Optional[str] = None,
        template_file: Optional[str] = None,
        timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(kwargs)
        self.q_type = _known_q_type(q_type)
        self.q_name = q_name or self.q_type
        self.template_file = os.path.abspath(os.path.expanduser(template_file)) if template_file else None
        self.timeout = timeout

    def __repr__(self):
        return f"CommonAdapter({self.q_type!r}, {dict(self)!r})"

    def adapter(self, username: Optional[str] = None) -> QueueAdapter:
        """The per-system adapter these settings describe (checked as qlaunch checks a file)."""
        settings = self.to_dict()
        # qlaunch needs the command its jobs run; this object, as FireWorks', does not
        # (a script without it drops the line), so counting and submitting work without it
        settings.setdefault("rocket_launch", None)
        settings["rocket_launch"] = settings["rocket_launch"] or _NO_ROCKET_LAUNCH
        return get_adapter(load_qadapter(settings), user=username, timeout=self.timeout or DEFAULT_TIMEOUT)

    def get_script_str(self, launch_dir: str) -> str:
        """The submit script for a job that runs in ``launch_dir``."""
        script = self.adapter().render({"launch_dir": launch_dir})
        return "".join(line for line in script.splitlines(keepends=True) if _NO_ROCKET_LAUNCH not in line)

    def submit_to_queue(self, script_file: str) -> Optional[Any]:
        """Submit ``script_file`` (from its folder); the job id (an int where it is
        a number, as FireWorks returns Slurm's), or None after logging why not."""
        if not os.path.exists(script_file):
            raise InvalidArgumentError(f"cannot find the script file {script_file}")
        try:
            job_id = self.adapter().submit(script_file, cwd=os.path.dirname(os.path.abspath(script_file)))
        except StarshellError as exc:
            log.error("%s: submitting %s failed: %s", self.q_name, script_file, exc)
            return None
        return int(job_id) if str(job_id).isdigit() else job_id

    def get_njobs_in_queue(self, username: Optional[str] = None) -> Optional[int]:
        """How many jobs ``username`` (default: this user) has queued or running in this
        adapter's ``queue`` (every queue when unset), as FireWorks counts them; or None
        after logging why the scheduler could not say."""
        try:
            return self.adapter(username).count_jobs(queue=self.get("queue"))
        except StarshellError as exc:
            log.error("%s: counting the jobs in the queue failed: %s", self.q_name, exc)
            return None

    def to_dict(self) -> dict:
        d = {**self, "_fw_name": self._fw_name, "_fw_q_type": self.q_type}
        if self.q_name != self.q_type:
            d["_fw_q_name"] = self.q_name
        if self.template_file:
            d["_fw_template_file"] = self.template_file
        if self.timeout is not None:
            d["_fw_timeout"] = self.timeout
        return d

    @classmethod
    def from_dict(cls, m_dict: dict) -> CommonAdapter:
        if m_dict.get("_fw_name", cls._fw_name) != cls._fw_name:
            raise ConfigError(f"_fw_name {m_dict['_fw_name']!r} is not CommonAdapter")
        if not m_dict.get("_fw_q_type"):
            raise ConfigError("a CommonAdapter needs _fw_q_type (SLURM, PBS, SGE or LSF)")
        return cls(
            q_type=m_dict["_fw_q_type"],
            q_name=m_dict.get("_fw_q_name"),
            template_file=m_dict.get("_fw_template_file") or m_dict.get("template_file"),
            timeout=m_dict.get("_fw_timeout"),
            **{k: v for k, v in m_dict.items() if not k.startswith("_fw") and k != "template_file"},
        )


def _known_q_type(q_type: str) -> str:
    """The canonical name of a batch system the adapters submit to (FireWorks: ValueError)."""
    name = _ALIASES.get(str(q_type).upper(), str(q_type))
    canonical = next((q for q in Q_TYPES if q.upper() == name.upper()), None)
    if canonical not in ADAPTERS:
        raise InvalidArgumentError(
            f"{q_type} is not a supported queue type; CommonAdapter supports {', '.join(ADAPTERS)}"
        )
    return canonical


__all__ = ["CommonAdapter"]
