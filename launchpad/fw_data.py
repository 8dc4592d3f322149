"""FireWorks' ``FWData()``: what a task may ask about the rocket process running it.

FireWorks' multi launcher forks rocket processes and fills this singleton in each;
starshell's ``rlaunch multi`` starts fresh ``rlaunch rapidfire`` processes and tells
each its share of the nodes through the environment (the names below), so the
singleton reads them from there. A task calling ``FWData().NODE_LIST`` works the same
under both.
"""

import os

# What a packed rocket process (rlaunch multi) is told: its nodes (comma-separated)
# and its processor count.
NODE_LIST_ENV = "STARSHELL_NODE_LIST"
SUB_NPROCS_ENV = "STARSHELL_SUB_NPROCS"


def _multiprocessing():
    return True if SUB_NPROCS_ENV in os.environ or NODE_LIST_ENV in os.environ else None


def _node_list():
    nodes = os.environ.get(NODE_LIST_ENV)
    return [n for n in nodes.split(",") if n] if nodes else None


def _sub_nprocs():
    nprocs = os.environ.get(SUB_NPROCS_ENV)
    return int(nprocs) if nprocs else None


def _from_environment(name, read):
    """An attribute read from the environment each time, until someone sets it (as
    FireWorks' launcher does on its singleton)."""

    def get(self):
        return self._given[name] if name in self._given else read()

    def put(self, value):
        self._given[name] = value

    return property(get, put)


class FWData:
    """One per process, as FireWorks' ``@singleton``: ``FWData() is FWData()``.

    Outside ``rlaunch multi`` / ``launch_multiprocess`` everything is None, as in
    FireWorks. Inside, ``MULTIPROCESSING`` is True, ``NODE_LIST`` this process's nodes
    (None without ``--nodefile``), ``SUB_NPROCS`` its processor count, and
    ``Running_IDs`` maps this process's pid to the launch it runs (None between
    fireworks; FireWorks' dict also holds the sibling processes, which share nothing
    here). ``DATASERVER`` stays None: each process opens the store itself."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            instance = super().__new__(cls)
            instance._given = {}
            cls._instance = instance
        return cls._instance

    MULTIPROCESSING = _from_environment("MULTIPROCESSING", _multiprocessing)
    NODE_LIST = _from_environment("NODE_LIST", _node_list)
    SUB_NPROCS = _from_environment("SUB_NPROCS", _sub_nprocs)
    DATASERVER = _from_environment("DATASERVER", lambda: None)

    @property
    def Running_IDs(self):  # noqa: N802 (FireWorks' name)
        if "Running_IDs" not in self._given:
            if not self.MULTIPROCESSING:
                return None
            self._given["Running_IDs"] = {}
        return self._given["Running_IDs"]

    @Running_IDs.setter
    def Running_IDs(self, value):  # noqa: N802 (FireWorks' name)
        self._given["Running_IDs"] = value

    def __repr__(self):
        return (
            f"FWData(MULTIPROCESSING={self.MULTIPROCESSING}, NODE_LIST={self.NODE_LIST}, "
            f"SUB_NPROCS={self.SUB_NPROCS})"
        )


def note_running(launch_id):
    """The rocket says which launch this process runs (None: none), for ``Running_IDs``
    under job packing; outside it nothing is kept, as in FireWorks."""
    running = FWData().Running_IDs
    if running is not None:
        running[os.getpid()] = launch_id


__all__ = ["FWData", "NODE_LIST_ENV", "SUB_NPROCS_ENV", "note_running"]
