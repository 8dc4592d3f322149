"""``qlaunch init``: the queue's starter files, from what ``pip install`` ships.

The tutorial (examples/slurm/README.md) needs a qadapter, a worker and a small
workflow; a user who installed the package has no checkout to copy them from,
so they are package data, filled in with this directory's absolute paths (a
job starts in its own launcher directory) and the active virtualenv.
"""

from __future__ import annotations

import os
import sys
from importlib import resources

from launchpad.errors import ConfigError

STARTER_FILES = ("my_qadapter.yaml", "my_fworker.yaml", "hello_cluster.yaml")
LAUNCHPAD_FILE = "my_launchpad.yaml"


def starter_values(directory: str) -> dict:
    """What the templates' ``@NAME@`` placeholders become for ``directory``."""
    launchpad = os.path.join(directory, LAUNCHPAD_FILE)
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    return {
        "DIR": directory,
        "LAUNCHPAD": f" -l {launchpad}" if os.path.exists(launchpad) else "",
        "PRE_ROCKET": (
            f"source {sys.prefix}/bin/activate"
            if in_venv
            else "null   # e.g. module load python; source ~/venv/bin/activate"
        ),
    }


def write_starter_files(directory: str = ".", force: bool = False) -> list[str]:
    """Write the starter files into ``directory``; an existing one is kept unless ``force``."""
    directory = os.path.abspath(directory)
    targets = [os.path.join(directory, name) for name in STARTER_FILES]
    existing = [t for t in targets if os.path.exists(t)]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(existing)} already exist(s); nothing was written: "
            "pass --force to overwrite them, or name another directory"
        )
    os.makedirs(directory, exist_ok=True)
    values = starter_values(directory)
    for name, target in zip(STARTER_FILES, targets):
        text = (
            resources.files("queue_adapters")
            .joinpath("templates", "starter", name)
            .read_text(encoding="utf-8")
        )
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
    return targets


__all__ = ["STARTER_FILES", "starter_values", "write_starter_files"]
