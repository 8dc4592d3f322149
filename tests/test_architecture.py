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
LAZY_WEBGUI = {os.path.join("launchpad", "cli.py")}


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
