"""Talking to batch systems: qadapter files, submit scripts, job ids and states.

``get_adapter("my_qadapter.yaml")`` gives the scheduler's adapter; the queue
launcher renders a script with it, submits it and counts the pilots in the queue.
"""

from .adapters import (
    ADAPTERS,
    JobState,
    LSFAdapter,
    PBSAdapter,
    QueueAdapter,
    RunCommand,
    SGEAdapter,
    SlurmAdapter,
    get_adapter,
    render_template,
    run_subprocess,
)
from .common_adapter import CommonAdapter
from .config import QAdapterConfig, load_qadapter, walltime_seconds

__all__ = [
    "ADAPTERS",
    "CommonAdapter",
    "JobState",
    "LSFAdapter",
    "PBSAdapter",
    "QAdapterConfig",
    "QueueAdapter",
    "RunCommand",
    "SGEAdapter",
    "SlurmAdapter",
    "get_adapter",
    "load_qadapter",
    "render_template",
    "run_subprocess",
    "walltime_seconds",
]
