"""A workflow's DAG as a picture, and FireWorks' structural check of it.

The picture is Graphviz DOT text built here, drawn by Graphviz's ``dot``
program (Debian/Ubuntu: ``apt-get install graphviz``; conda: ``graphviz``)
when a PNG/SVG/PDF is asked for. No Python drawing package is needed, and a
``.dot`` file needs nothing installed at all.
"""

import os
import shutil
import subprocess

from .dag import find_cycle, topological_order
from .errors import DrawingError
from .states import State

# state: (fill, ink). The one table of state colours; the web GUI reads it too.
STATE_COLORS = {
    State.COMPLETED.value: ("#2e7d32", "#ffffff"),
    State.RUNNING.value: ("#1565c0", "#ffffff"),
    State.RESERVED.value: ("#6a1b9a", "#ffffff"),
    State.READY.value: ("#00796b", "#ffffff"),
    State.WAITING.value: ("#b0bec5", "#1a2327"),
    State.PAUSED.value: ("#f9a825", "#1a2327"),
    State.FIZZLED.value: ("#c62828", "#ffffff"),
    State.DEFUSED.value: ("#5d4037", "#ffffff"),
    State.ARCHIVED.value: ("#e0e0e0", "#424242"),
}
PICTURE_FORMATS = ("png", "svg", "pdf", "dot")


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _task_label(task):
    name = str(task.get("_fw_name", type(task).__name__)).strip("{}")
    return name.rsplit(".", 1)[-1]


class WorkflowGraph:
    """What FireWorks' ``wf_to_graph`` gives (a graphviz Digraph) that people use:
    ``source``, ``render``, ``pipe`` and the notebook picture."""

    def __init__(self, source, run_command=subprocess.run):
        self.source = source
        self._run = run_command

    def __str__(self):
        return self.source

    def pipe(self, format="svg"):
        """The picture's bytes, drawn by Graphviz's ``dot``."""
        dot = shutil.which("dot")
        if dot is None:
            raise DrawingError(
                "drawing a picture needs Graphviz's dot program: install "
                "graphviz (apt-get install graphviz, or conda install graphviz), "
                "or write a .dot file"
            )
        done = self._run(
            [dot, f"-T{format}"], input=self.source.encode(), capture_output=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise DrawingError(f"dot -T{format} failed: {done.stderr.decode(errors='replace')[:300]}")
        return done.stdout

    def render(self, path, format=None):
        """Write the picture to ``path``; the format is its extension (png, svg, pdf, dot)."""
        format = (format or os.path.splitext(path)[1][1:] or "png").lower()
        if format not in PICTURE_FORMATS:
            raise DrawingError(
                f"{path}: cannot draw .{format}; use one of {', '.join('.' + f for f in PICTURE_FORMATS)}"
            )
        data = self.source.encode() if format == "dot" else self.pipe(format)
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    def _repr_svg_(self):
        return self.pipe("svg").decode()


def wf_to_graph(wf, dag_kwargs=None, wf_show_tasks=True):
    """The workflow as a graph: one box per firework filled with its state's colour
    (and its tasks as a dashed chain below it, like FireWorks)."""
    attrs = {"rankdir": "TB" if wf_show_tasks else "LR", **(dag_kwargs or {})}
    lines = [
        f"digraph {_quote(wf.name or 'workflow')} {{",
        *(f"  {k}={_quote(v)};" for k, v in attrs.items()),
        '  node [shape=box, style="rounded,filled", fontname="helvetica"];',
    ]
    for fw_id in sorted(wf.id_fw):
        fw = wf.id_fw[fw_id]
        fill, ink = STATE_COLORS.get(fw.state, ("#ffffff", "#000000"))
        label = f"{fw.name}\nid {fw_id} · {fw.state}"
        lines.append(f"  {fw_id} [label={_quote(label)}, fillcolor={_quote(fill)}, fontcolor={_quote(ink)}];")
        if wf_show_tasks:
            lines.extend(_task_chain(fw_id, fw.tasks))
    for parent in sorted(wf.links):
        lines.extend(f"  {parent} -> {child};" for child in sorted(wf.links[parent]))
    lines.append("}")
    return WorkflowGraph("\n".join(lines) + "\n")


def _task_chain(fw_id, tasks):
    previous = str(fw_id)
    for idx, task in enumerate(tasks):
        node = _quote(f"{fw_id}-{idx}")
        yield (
            f"  {node} [label={_quote(_task_label(task))}, style=dashed, fillcolor=white, fontcolor=black];"
        )
        yield f"  {previous} -> {node} [style=dashed, arrowhead=none];"
        previous = node


def plot_wf(wf, save_as=None, **_fireworks_options):
    """FireWorks' ``plot_wf`` draws with matplotlib; this draws with Graphviz and
    saves to ``save_as`` (any of PICTURE_FORMATS). Its styling options are accepted
    and ignored. Returns the WorkflowGraph."""
    graph = wf_to_graph(wf, wf_show_tasks=False)
    if save_as:
        graph.render(save_as)
    return graph


# -- FireWorks' check_wflow: structure and data flow --------------------------------------
def check_workflow(wf):
    """Problems FireWorks' DAGFlow check would raise, in words (empty: none):
    a cycle, a workflow in several unconnected pieces, a task input with no
    source or several (a parent's task ``outputs``, an earlier task's, or the spec)."""
    problems = []
    order = topological_order(wf.links)
    if len(order) < len(wf.id_fw):
        cycle = find_cycle(wf.links, set(wf.id_fw) - set(order))
        problems.append(f"the links form a cycle: {' -> '.join(map(str, cycle))}")
        return problems
    pieces = _pieces(wf)
    if len(pieces) > 1:
        problems.append(
            f"the workflow is {len(pieces)} unconnected pieces (firework ids "
            f"{'; '.join(', '.join(map(str, sorted(p))) for p in pieces)})"
        )
    return problems + _dataflow_problems(wf, order)


def _pieces(wf):
    neighbours = {i: set() for i in wf.id_fw}
    for parent, kids in wf.links.items():
        for kid in kids:
            neighbours[parent].add(kid)
            neighbours[kid].add(parent)
    pieces, seen = [], set()
    for start in sorted(neighbours):
        if start in seen:
            continue
        piece, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node not in piece:
                piece.add(node)
                stack.extend(neighbours[node] - piece)
        seen |= piece
        pieces.append(piece)
    return pieces


def _names(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# FireWorks' DAGFlow looks at these tasks only; a task of another kind may have
# parameters called inputs and outputs that mean something else.
DATAFLOW_TASKS = ("PyTask", "CommandLineTask", "ForeachTask", "JoinDictTask", "JoinListTask")


def _dataflow_steps(fw):
    """The firework's dataflow tasks as (inputs, outputs) pairs, a ForeachTask's inner task
    standing for it; and whether it runs chunks (its outputs are gathered, not passed)."""
    steps, chunked = [], False
    for task in fw.tasks:
        if type(task).__name__ not in DATAFLOW_TASKS:
            continue
        inner = task.get("task", task)
        steps.append(
            (inner, _names(inner.get("inputs")), _names(inner.get("outputs")) + _names(inner.get("output")))
        )
        chunked = chunked or "chunk_number" in task
    return steps, chunked


def _in_spec(task, name, spec):
    """Whether input ``name`` of ``task`` comes from the firework itself (FireWorks' rule:
    a CommandLineTask input names a command_spec entry whose source is inline or a spec key)."""
    command_spec = task.get("command_spec")
    if not isinstance(command_spec, dict):
        return name in spec
    entry = command_spec.get(name)
    if isinstance(entry, dict):
        source = entry.get("source")
        return isinstance(source, dict) or source in spec
    return isinstance(entry, str) and entry in spec


def _dataflow_problems(wf, order):
    """FireWorks' DAGFlow rule: no name output by two tasks of one firework, and every
    input of a dataflow task with exactly one source: a parent that outputs it (unless the
    parent runs chunks), the firework's own spec, or an earlier task of the firework."""
    parents = {i: [] for i in wf.id_fw}
    for parent, kids in wf.links.items():
        for kid in kids:
            parents[kid].append(parent)
    steps = {i: _dataflow_steps(wf.id_fw[i]) for i in wf.id_fw}
    outputs = {i: [o for _, _, outs in steps[i][0] for o in outs] for i in wf.id_fw}
    problems = []
    for fw_id in order:
        fw = wf.id_fw[fw_id]
        clashes = sorted({o for n, o in enumerate(outputs[fw_id]) if o in outputs[fw_id][:n]})
        problems += [f"firework {fw_id} ({fw.name}): several tasks output {name!r}" for name in clashes]
        for name in sorted({i for _, ins, _ in steps[fw_id][0] for i in ins}):
            sources = [p for p in sorted(parents[fw_id]) if name in outputs[p] and not steps[p][1]]
            done = {
                o for p in parents[fw_id] if wf.id_fw[p].state == State.COMPLETED.value for o in outputs[p]
            }
            if name not in done and any(
                name in ins and _in_spec(t, name, fw.spec) for t, ins, _ in steps[fw_id][0]
            ):
                sources.append("its spec")
            if _made_by_an_earlier_task(steps[fw_id][0], name):
                sources.append("an earlier task")
            if len(sources) != 1:
                problems.append(
                    f"firework {fw_id} ({fw.name}): input {name!r} has "
                    f"{'no source' if not sources else 'several sources: '}"
                    f"{', '.join(map(str, sources))}"
                )
    return problems


def _made_by_an_earlier_task(steps, name):
    made = False
    for _, ins, outs in steps:
        made = made or name in outs
        if made and name in ins:
            return True
    return False
