"""Shared fixtures: a fresh store per test, on every backend.

``store`` is parametrized over the embedded SQLite store and MongoDB through
mongomock; with ``MONGODB_URI`` set, the same tests also run against that
real server (marker ``mongodb``).
"""

import os
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from launchpad import LaunchPad  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.stores.mongo import MongoStore  # noqa: E402

# FireWorks' tutorial files, kept beside the repository (../shared/); movable for other layouts.
CORPUS = os.environ.get("STARSHELL_CORPUS") or os.path.join(
    os.path.dirname(ROOT), "shared", "fireworks-corpus"
)


# Tests that share one machine-wide service (the one-node Slurm, the test sshd) run one
# after the other in a single pytest-xdist worker; everything else runs on both.
_ONE_AT_A_TIME = ("slurm", "ssh")


def pytest_collection_modifyitems(config, items):
    """Serialise the tests of shared services under xdist; corpus tests skip where the
    corpus is absent, except in CI, where they must run."""
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            if any(name in item.keywords for name in _ONE_AT_A_TIME):
                item.add_marker(pytest.mark.xdist_group("shared-services"))
    if os.path.isdir(CORPUS) or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason=f"no FireWorks corpus at {CORPUS}; set STARSHELL_CORPUS")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


BACKENDS = ["sqlite", "mongomock"] + (
    [pytest.param("mongodb", marks=pytest.mark.mongodb)] if os.environ.get("MONGODB_URI") else []
)


def make_store(kind, tmp_path):
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "launchpad.sqlite")
    if kind == "mongomock":
        return MongoStore.connect(mongomock=True, name=f"test_{uuid.uuid4().hex[:8]}")
    uri = os.environ["MONGODB_URI"]
    store = MongoStore.connect(uri=uri, name=f"starshell_test_{uuid.uuid4().hex[:8]}")
    return store


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = make_store(request.param, tmp_path)
    yield s
    if request.param == "mongodb":
        s.db.client.drop_database(s.db.name)
    s.close()


@pytest.fixture
def lp(store):
    return LaunchPad(store)


@pytest.fixture
def sqlite_lp(tmp_path):
    return LaunchPad(SQLiteStore(tmp_path / "launchpad.sqlite"))


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A private ~/.starshell and working directory, so CLI tests never share a store."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("STARSHELL_HOME", str(home))
    monkeypatch.delenv("STARSHELL_LAUNCHPAD", raising=False)
    monkeypatch.chdir(work)
    return work


class ManualClock:
    """A LaunchPad clock that moves only when a test says so."""

    def __init__(self, start=datetime(2026, 1, 1, tzinfo=timezone.utc)):
        self.t = start

    def __call__(self):
        return self.t

    def advance(self, seconds):
        self.t += timedelta(seconds=seconds)
