"""Job packing (FireWorks' ``launch_multiprocess``, ``rlaunch multi``): N rapidfire rocket
processes in one batch job, each given its share of the job's nodes.

Each process is a fresh ``rlaunch rapidfire`` (no database connection is shared
between processes); its share of the nodes reaches the tasks through the
environment and is recorded in each launch's ``stored_data`` as FireWorks does.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import tempfile
from typing import Any, Optional, Sequence

from launchpad.config import config_to_dict
from launchpad.errors import ConfigError, InvalidArgumentError
from launchpad.fw_utilities import get_my_host, log_multi

from .launcher import multi
from .special_keys import NODE_LIST_ENV, SUB_NPROCS_ENV

log = logging.getLogger("rocket")


def split_node_lists(num_jobs: int, total_node_list: Optional[Sequence[str]] = None, ppn: int = 24):
    """FireWorks' split: the distinct nodes, sorted, in ``num_jobs`` equal groups, each
    process getting ``len(group) * ppn`` processors; without nodes, ``ppn`` each. An
    uneven split is a ValueError, as in FireWorks."""
    if not total_node_list:
        return [None] * num_jobs, [ppn] * num_jobs
    nodes = sorted(set(total_node_list))
    if len(nodes) % num_jobs:
        raise InvalidArgumentError(
            f"cannot share {len(nodes)} nodes equally among {num_jobs} rocket processes"
        )
    per_job = len(nodes) // num_jobs
    return [nodes[i : i + per_job] for i in range(0, len(nodes), per_job)], [per_job * ppn] * num_jobs


def read_nodefile(name: str) -> list[str]:
    """``--nodefile``: a file of node names, one a line, or the variable naming one
    (``--nodefile PBS_NODEFILE``), as FireWorks reads it."""
    path = os.environ.get(name, name)
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    except OSError as exc:
        raise ConfigError(f"--nodefile {name}: cannot read {path}: {exc.strerror}") from None


def without_current_node(nodes: list[str]) -> list[str]:
    """``exclude_current_node``: the node running the launcher keeps no share of the work."""
    here = socket.gethostname()
    if here not in nodes:
        log.warning("this node (%s) is not in the node list; the list is used as it is", here)
        return nodes
    return [n for n in nodes if n != here]


def packing_envs(num_jobs, total_node_list=None, ppn=1, exclude_current_node=False):
    """The environment of each packed process (its nodes and processor count)."""
    nodes = list(total_node_list or [])
    if nodes and exclude_current_node:
        nodes = without_current_node(nodes)
    node_lists, nprocs = split_node_lists(num_jobs, nodes, ppn)
    envs = []
    for group, nproc in zip(node_lists, nprocs):
        env = {SUB_NPROCS_ENV: str(nproc)}
        if group:
            env[NODE_LIST_ENV] = ",".join(group)
        envs.append(env)
    return envs


def launch_multiprocess(
    launchpad: Any,
    fworker: Any,
    loglvl: str,
    nlaunches: int,
    num_jobs: int,
    sleep_time: float,
    total_node_list: Optional[Sequence[str]] = None,
    ppn: int = 1,
    timeout: Optional[float] = None,
    exclude_current_node: bool = False,
    local_redirect: bool = False,
) -> int:
    """FireWorks' ``launch_multiprocess``: ``num_jobs`` rapidfire processes under the
    current directory, waited for; returns the worst exit code.

    The processes open the store themselves, so ``launchpad`` must be one another
    process can open (a file-backed or MongoDB store, a gateway), not an
    in-memory one."""
    envs = packing_envs(num_jobs, total_node_list, ppn, exclude_current_node)
    with tempfile.TemporaryDirectory(prefix="starshell-multi-") as folder:
        argv = [
            "-l",
            _write(folder, "my_launchpad.yaml", _launchpad_dict(launchpad)),
            "--loglvl",
            str(loglvl or "INFO"),
        ]
        if fworker is not None:
            argv += ["-w", _write(folder, "my_fworker.yaml", _worker_dict(fworker))]
        argv += ["rapidfire", "--nlaunches", str(nlaunches), "--sleep", str(sleep_time)]
        argv += ["--timeout", str(timeout)] if timeout is not None else []
        argv += ["--local_redirect"] if local_redirect else []
        return multi(num_jobs, argv, python=sys.executable, envs=envs)


def _launchpad_dict(launchpad):
    config = getattr(launchpad, "config", None)
    if config is not None and getattr(config, "kind", "mongomock") != "mongomock":
        data = config_to_dict(config)
    else:  # LaunchPad(SQLiteStore(path)) has no config, but its file is one to open
        data = launchpad.to_dict() if getattr(launchpad, "store", None) is not None else {}
    if data.get("store", "sqlite") == "sqlite" and not data.get("path"):
        raise ConfigError(
            "launch_multiprocess needs a LaunchPad other processes can open: one from "
            "LaunchPad.from_file or LaunchPad.auto_load, not an in-memory store"
        )
    if data.get("store") == "sqlite":  # the processes may start elsewhere
        data["path"] = os.path.abspath(os.path.expanduser(data["path"]))
    return data


def _worker_dict(fworker):
    return {
        "name": fworker.name,
        "category": fworker.category,
        "query": dict(fworker.query or {}),
        "env": dict(fworker.env or {}),
        "confine_launch_dir": bool(getattr(fworker, "confine_launch_dir", False)),
    }


def _write(folder, name, data):
    """JSON is YAML: the processes read the file as any my_*.yaml."""
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, default=str)
    return path


__all__ = [
    "launch_multiprocess",
    "split_node_lists",
    "packing_envs",
    "read_nodefile",
    "get_my_host",
    "log_multi",
]
