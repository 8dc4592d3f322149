"""The architecture, checked: import direction, store privacy, module size."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("launchpad", "rocket", "queue_adapters", "webgui")
MAX_LINES = 800

# package -> packages it must never import
FORBIDDEN = {
    "launchpad": {"rocket", "queue_adapters", "webgui"},
    "rocket": {"queue_adapters", "webgui"},
    "queue_adapters": {"rocket", "webgui"},
    "webgui": {"rocket", "queue_adapters"},
}
# the one allowed exception: `lpad webgui` imports the GUI lazily
LAZY_WEBGUI = {os.path.join("launchpad", "cli", "lpad.py")}


def modules():
    for package in PACKAGES:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    yield package, os.path.relpath(path, ROOT), path


def imported_roots(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node


ALL = list(modules())


@pytest.mark.parametrize("package,rel,path", ALL, ids=[m[1] for m in ALL])
def test_imports_point_one_way(package, rel, path):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    for root, node in imported_roots(tree):
        if root in FORBIDDEN[package]:
            allowed = root == "webgui" and rel in LAZY_WEBGUI and node.col_offset > 0
            assert allowed, f"{rel}:{node.lineno} imports {root}"


@pytest.mark.parametrize("package,rel,path", ALL, ids=[m[1] for m in ALL])
def test_only_store_backends_touch_the_database(package, rel, path):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    in_stores = rel.startswith(os.path.join("launchpad", "stores"))
    for root, node in imported_roots(tree):
        if root in ("sqlite3", "pymongo"):
            assert in_stores, f"{rel}:{node.lineno} imports {root}; go through the Store interface"


@pytest.mark.parametrize("package,rel,path", ALL, ids=[m[1] for m in ALL])
def test_modules_stay_small(package, rel, path):
    with open(path, encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    assert lines <= MAX_LINES, f"{rel} has {lines} lines; split it by concept"


# A state is written as ``State.X`` / ``LaunchState.X`` (launchpad/states.py), never as a
# bare string, so renaming or adding one is a change in one file. The exceptions are
# batch systems' own job states, which merely share some names.
STATE_LITERAL_EXCEPTIONS = {
    os.path.join("launchpad", "states.py"),  # where the enums live
    os.path.join("queue_adapters", "adapters", "base.py"),  # the scheduler JobState enum
    os.path.join("queue_adapters", "adapters", "slurm.py"),  # squeue's state names -> JobState
}
STATE_LITERAL_PACKAGES = ("launchpad", "rocket", "queue_adapters")


def state_literals(tree):
    """String constants equal to a firework or launch state's value (docstrings aside)."""
    from launchpad.states import ALL_STATES, LAUNCH_STATES

    names = set(ALL_STATES) | set(LAUNCH_STATES)
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in names
            and id(node) not in docstrings
        ):
            yield node


@pytest.mark.parametrize("package,rel,path", ALL, ids=[m[1] for m in ALL])
def test_states_are_enum_members_not_strings(package, rel, path):
    if package not in STATE_LITERAL_PACKAGES or rel in STATE_LITERAL_EXCEPTIONS:
        return
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    found = [f"{rel}:{node.lineno} {node.value!r}" for node in state_literals(tree)]
    assert not found, f"use State/LaunchState from launchpad/states.py: {found}"


def test_the_state_literal_rule_catches_a_bare_state():
    tree = ast.parse('"""FENCED"""\nif launch["state"] == "FENCED": pass\nx = State.READY\n')
    assert [node.lineno for node in state_literals(tree)] == [2]
