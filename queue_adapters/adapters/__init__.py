"""One adapter class per batch system, chosen by the qadapter's ``_fw_q_type``."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from launchpad.errors import QueueError

from ..config import PathLike, QAdapterConfig, load_qadapter
from .base import DEFAULT_TIMEOUT, JobState, QueueAdapter, RunCommand, render_template, run_subprocess
from .lsf import LSFAdapter
from .pbs import PBSAdapter
from .sge import SGEAdapter
from .slurm import SlurmAdapter

ADAPTERS = {cls.q_type: cls for cls in (SlurmAdapter, PBSAdapter, SGEAdapter, LSFAdapter)}


def get_adapter(
    config: Union[QAdapterConfig, PathLike, Mapping[str, Any]],
    run_command: RunCommand = run_subprocess,
    user: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> QueueAdapter:
    """The adapter for a qadapter file, dict or loaded config."""
    if not isinstance(config, QAdapterConfig):
        config = load_qadapter(config)
    cls = ADAPTERS.get(config.q_type)
    if cls is None:
        raise QueueError(
            f"{config.source}: _fw_q_type {config.q_type} is not supported yet; "
            f"starshell can submit to {', '.join(ADAPTERS)}"
        )
    return cls(config, run_command=run_command, user=user, timeout=timeout)


__all__ = [
    "ADAPTERS",
    "DEFAULT_TIMEOUT",
    "JobState",
    "LSFAdapter",
    "PBSAdapter",
    "QueueAdapter",
    "RunCommand",
    "SGEAdapter",
    "SlurmAdapter",
    "get_adapter",
    "render_template",
    "run_subprocess",
]
