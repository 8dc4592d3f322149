"""No import cycles among first-party modules (launchpad, rocket, queue_adapters, webgui).

Every import counts, also those inside functions (that is where cycles hide:
a lazy import makes a cycle run, not go away), except those under
``if TYPE_CHECKING:``, which never run. Relative imports are resolved, and
``from pkg import name`` points at the submodule ``pkg.name`` when there is one,
else at ``pkg`` itself.

Importing ``a.b.c`` runs the packages ``a`` and ``a.b`` first, but a module
depends on an ``__init__`` only when it takes names from it (``from a.b import
Name``, ``import a.b``): those are the edges counted. So a package's
``__init__`` importing its own submodules is no cycle, while a submodule that
takes names back from that ``__init__`` is one, the kind that fails with a
partly initialised module. Imports built at run time from strings
(``importlib.import_module``, launchpad's lazy public names) are not seen.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("launchpad", "rocket", "queue_adapters", "webgui")


def module_files(root, packages):
    """``{dotted module name: path}`` for every .py file under ``packages``."""
    found = {}
    for package in packages:
        for folder, _dirs, files in os.walk(os.path.join(root, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    parts = os.path.relpath(path, root)[: -len(".py")].split(os.sep)
                    if parts[-1] == "__init__":
                        parts = parts[:-1]
                    found[".".join(parts)] = path
    return found


def _is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(tree):
    """Every Import/ImportFrom node, at any depth, outside ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(module, is_package, node, known):
    """The first-party modules one import statement depends on."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module
    targets = []
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in known:
            targets.append(sub)
        elif source in known:
            targets.append(source)
    return targets


def import_graph(root, packages):
    """``{module: {imported module: first line}}`` over the first-party modules."""
    files = module_files(root, packages)
    graph = {}
    for module, path in files.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        is_package = path.endswith("__init__.py")
        edges = graph.setdefault(module, {})
        for node in import_nodes(tree):
            for target in imported_modules(module, is_package, node, files):
                if target != module:
                    edges[target] = min(edges.get(target, node.lineno), node.lineno)
    return graph


def cycles(graph):
    """The strongly connected groups of more than one module (Tarjan), sorted."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


def describe(graph, group):
    """The imports inside one cycle, as ``a:line -> b`` lines, for the failure message."""
    members = set(group)
    return "\n".join(
        f"  {a}:{line} imports {b}" for a in group for b, line in sorted(graph[a].items()) if b in members
    )


def test_first_party_modules_import_each_other_in_no_cycle():
    graph = import_graph(ROOT, PACKAGES)
    found = cycles(graph)
    assert not found, "import cycles (move the shared part into a module both import):\n" + "\n\n".join(
        describe(graph, group) for group in found
    )


def _tree(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(str(tmp_path), ("pkg",))


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    graph = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "def f():\n    from .b import g\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from .. import a\n",  # relative, two levels: pkg.a
            "pkg/b.py": "import pkg.sub.c\ndef g(): pass\n",
        },
    )
    assert graph["pkg.sub.c"] == {"pkg.a": 1}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_type_checking_imports_and_own_submodules_are_no_cycle(tmp_path):
    graph = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from . import a\nfrom .b import B\n",  # re-exports
            "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
            "pkg/b.py": "from pkg import a\nclass B: pass\n",  # `from pkg import a`: the submodule
        },
    )
    assert graph["pkg.b"] == {"pkg.a": 1} and graph["pkg.a"] == {}
    assert cycles(graph) == []


def test_taking_names_back_from_the_package_init_is_a_cycle(tmp_path):
    graph = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from .b import B\nNAME = 1\n",
            "pkg/b.py": "from . import NAME\nclass B: pass\n",
        },
    )
    assert cycles(graph) == [["pkg", "pkg.b"]]
