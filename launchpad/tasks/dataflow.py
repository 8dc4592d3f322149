"""FireWorks' dataflow tasks: data moves between fireworks through their specs.

CommandLineTask runs a command built from spec data; ForeachTask fans a
list out into parallel child fireworks whose results are pushed onto the
original children's spec; JoinDictTask and JoinListTask gather spec keys;
ImportDataTask reads a JSON/YAML file into the spec. Names, parameters and
the FWAction each returns follow FireWorks 2.1, so its files run unchanged;
where FireWorks asserts, these raise a TaskError that names the parameter.
"""

import copy
import json
import os
import subprocess
import uuid

from ..actions import FWAction
from ..errors import TaskError
from ..firetask import FiretaskBase, load_task
from ..models import Firework
from .paths import writable_path

STDERR_TAIL_CHARS = 2000
# Keys a rocket puts in the spec while a firework runs: a ForeachTask's copies leave
# them out, so each chunk runs in its own directory with its own worker's settings.
RUN_TIME_KEYS = ("_launch_dir", "_fw_env", "_allow_outside_launch_dir")


def _spec_value(fw_spec, key, task):
    if key not in fw_spec:
        raise TaskError(
            f"{task}: spec key {key!r} is missing; a parent must put it there "
            f"(its outputs) or the firework's spec must hold it"
        )
    return fw_spec[key]


def _label_list(task, name):
    value = task.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TaskError(f"{task.fw_name}: {name!r} must be a list of labels, got {value!r:.60}")
    return value


# ---- CommandLineTask ---------------------------------------------------------


def _io_spec(cmd_spec, label, fw_spec):
    """One input's or output's description; strings stand for spec keys (FireWorks' rule)."""
    if label not in cmd_spec:
        raise TaskError(f"CommandLineTask: label {label!r} has no entry in command_spec")
    entry = cmd_spec[label]
    if isinstance(entry, str):  # a spec key holding a list of sources
        items = _spec_value(fw_spec, entry, "CommandLineTask")
        return [item if "source" in item else {"source": item} for item in items]
    if not isinstance(entry, dict):
        raise TaskError(
            f"CommandLineTask: command_spec[{label!r}] must be a mapping or a spec key, got {entry!r:.60}"
        )
    resolved = {}
    for key in ("binding", "source", "target"):
        if key in entry:
            item = entry[key]
            if isinstance(item, str):
                item = _spec_value(fw_spec, item, "CommandLineTask")
            elif not isinstance(item, dict):
                raise TaskError(
                    f"CommandLineTask: {label!r} {key} must be a mapping or a spec key, got {item!r:.60}"
                )
            resolved[key] = copy.deepcopy(item)
    return resolved


def _binding(arg):
    binding = arg.get("binding") or {}
    return "".join(str(binding[k]) for k in ("prefix", "separator") if binding.get(k) is not None)


def _typed(part, label):
    if not isinstance(part, dict) or part.get("type") is None:
        raise TaskError(f"CommandLineTask: the {label} needs a 'type' (path, data...), got {part!r:.60}")
    return part["type"]


class _Call:
    """The pieces of one command line: arguments, stdin, stdout and stderr."""

    def __init__(self, command, fw_spec):
        if isinstance(command, str) or not isinstance(command, list) or not command:
            raise TaskError(
                "CommandLineTask: command_spec 'command' must be a non-empty list "
                f"of words, as for subprocess (e.g. [echo, -n]), got {command!r:.60}"
            )
        self.args = [str(word) for word in command]
        self.fw_spec = fw_spec
        self.stdin, self.stdin_data = None, None
        self.stdout, self.stderr = None, subprocess.PIPE
        self.opened = []

    def add_input(self, arg):
        text = _binding(arg)
        if "source" not in arg:
            raise TaskError(f"CommandLineTask: input {arg!r:.60} has no 'source'")
        kind, value = _typed(arg["source"], "input source"), arg["source"].get("value")
        if value is None:
            raise TaskError(f"CommandLineTask: input source {arg['source']!r:.60} has no value")
        if kind not in ("path", "data"):
            raise TaskError(
                f"CommandLineTask: input source type {kind!r} is not supported "
                "(FireWorks neither): use path or data"
            )
        if "target" in arg:
            if not isinstance(arg["target"], dict) or arg["target"].get("type") != "stdin":
                raise TaskError("CommandLineTask: an input's target can only be {type: stdin}")
            self._feed(kind, value)
        else:
            text += str(value)
        if text:
            self.args.append(text)

    def _feed(self, kind, value):
        if kind == "path":
            self.stdin = self._open(value, "rb", write=False)
        else:
            self.stdin, self.stdin_data = subprocess.PIPE, str(value).encode()

    def _open(self, path, mode, write=True):
        try:
            # closed by run(), once the command is done with it
            handle = open(writable_path(path, self.fw_spec) if write else path, mode)  # noqa: SIM115
        except OSError as exc:
            raise TaskError(f"CommandLineTask cannot open {path}: {exc.strerror or exc}") from None
        self.opened.append(handle)
        return handle

    def add_output(self, arg):
        if isinstance(arg, list):
            arg = arg[0]
        text = _binding(arg)
        kind = _typed(arg.get("target"), "output target")
        if kind == "data":
            self.stdout = subprocess.PIPE
        elif kind == "path":
            text += self._path_output(arg)
        else:
            raise TaskError(
                f"CommandLineTask: output target type {kind!r} is not supported "
                "(FireWorks neither): use path or data"
            )
        if text:
            self.args.append(text)

    def _path_output(self, arg):
        """An output file; a directory target gets a new unique name inside it."""
        target = arg["target"]
        path = target.get("value")
        if not path:
            raise TaskError("CommandLineTask: an output target of type path needs a value")
        path = str(path)
        if os.path.isdir(path):
            path = target["value"] = os.path.join(path, str(uuid.uuid4()))
        writable_path(path, self.fw_spec)
        source = arg.get("source")
        kind = _typed(source, "output source") if source is not None else None
        if kind == "stdout":
            self.stdout = self._open(path, "wb")
        elif kind == "stderr":
            self.stderr = self._open(path, "wb")
        elif kind != "path":
            return path
        return ""

    def run(self):
        try:
            proc = subprocess.Popen(self.args, stdin=self.stdin, stdout=self.stdout, stderr=self.stderr)
        except OSError as exc:
            raise TaskError(f"CommandLineTask cannot start {self.args[0]!r}: {exc.strerror or exc}") from None
        try:
            out, err = proc.communicate(self.stdin_data)
        finally:
            for handle in self.opened:
                handle.close()
        if proc.returncode != 0:
            tail = (err or b"").decode("utf-8", errors="replace")[-STDERR_TAIL_CHARS:].rstrip()
            raise TaskError(
                f"CommandLineTask: {' '.join(self.args)!r} exited with return code "
                f"{proc.returncode}; end of stderr:\n{tail or '(empty)'}"
            )
        return out


def _collect(outputs, out, fw_spec):
    """The target of each output, after copying path sources and reading stdout data."""
    targets = []
    for output in outputs:
        arg = output[0] if isinstance(output, list) else output
        source = arg.get("source")
        if isinstance(source, dict) and source.get("type") == "path":
            _copy(source.get("value"), arg["target"]["value"], fw_spec)
        if arg["target"]["type"] == "data":
            arg["target"]["value"] = (out or b"").decode("utf-8", errors="replace").strip()
        targets.append(arg["target"])
    return targets


def _copy(source, dest, fw_spec):
    import shutil

    try:
        shutil.copyfile(source, writable_path(dest, fw_spec))
    except OSError as exc:
        raise TaskError(
            f"CommandLineTask cannot copy output {source} to {dest}: {exc.strerror or exc}"
        ) from None


class CommandLineTask(FiretaskBase):
    """Run ``command_spec['command']`` with arguments, stdin and outputs described by labels.

    Each label in ``inputs``/``outputs`` names an entry of ``command_spec``
    ({binding, source, target}, or a spec key); outputs reach the children
    under their labels (``update_spec``), or are pushed onto them when the
    task is one chunk of a ForeachTask (``chunk_number``).
    """

    _fw_name = "CommandLineTask"
    required_params = ("command_spec",)
    optional_params = ("inputs", "outputs", "chunk_number")

    def run_task(self, fw_spec):
        cmd_spec = self["command_spec"]
        if not isinstance(cmd_spec, dict) or "command" not in cmd_spec:
            raise TaskError("CommandLineTask: command_spec must be a mapping with a 'command' list")
        ilabels, olabels = _label_list(self, "inputs"), _label_list(self, "outputs")
        call = _Call(cmd_spec["command"], fw_spec)
        for label in ilabels:
            entry = _io_spec(cmd_spec, label, fw_spec)
            for arg in entry if isinstance(entry, list) else [entry]:
                call.add_input(arg)
        outputs = [_io_spec(cmd_spec, label, fw_spec) for label in olabels]
        for arg in outputs:
            call.add_output(arg)
        targets = _collect(outputs, call.run(), fw_spec)
        if not targets:
            return FWAction()
        if self.get("chunk_number") is not None:
            return FWAction(mod_spec=[{"_push": {label: target}} for label, target in zip(olabels, targets)])
        return FWAction(update_spec=dict(zip(olabels, targets)))


# ---- ForeachTask -----------------------------------------------------------


def _chunks(items, number):
    """FireWorks' split: chunks of ceil(len / number) items (so perhaps fewer chunks)."""
    if number in (None, 0, ""):
        number = len(items)
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise TaskError(f"ForeachTask: 'number of chunks' must be a positive integer, got {number!r}")
    size = -(-len(items) // number)
    return [items[i : i + size] for i in range(0, len(items), size)]


class ForeachTask(FiretaskBase):
    """Fan out: one detour firework running ``task`` per item (or chunk) of ``spec[split]``.

    The detours sit between this firework and its children, so the children
    wait for all of them; each chunk's task gets ``chunk_number`` and pushes
    its outputs onto the children's spec (in the order the chunks finish).
    """

    _fw_name = "ForeachTask"
    required_params = ("task", "split")
    optional_params = ("number of chunks",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self["task"], dict) and "_fw_name" in self["task"]:
            load_task(dict(self["task"]))  # a bad inner task fails at lpad add, not on a node

    def run_task(self, fw_spec):
        split, task = self["split"], self["task"]
        if not isinstance(split, str):
            raise TaskError(f"ForeachTask: 'split' must be a spec key, got {split!r:.60}")
        if not isinstance(task, dict) or "_fw_name" not in task:
            raise TaskError("ForeachTask: 'task' must be a task mapping with a _fw_name")
        inputs = task.get("inputs")
        if split not in (inputs if isinstance(inputs, list) else [inputs]):
            raise TaskError(
                f"ForeachTask: the task's inputs {inputs!r} must include the "
                f"split key {split!r}, so each chunk reaches it"
            )
        items = _spec_value(fw_spec, split, "ForeachTask")
        if not isinstance(items, list) or not items:
            raise TaskError(f"ForeachTask: spec[{split!r}] must be a non-empty list, got {items!r:.60}")
        return FWAction(detours=self._fireworks(fw_spec, split, task, items))

    def _fireworks(self, fw_spec, split, task, items):
        base = {k: v for k, v in fw_spec.items() if k not in RUN_TIME_KEYS and k != "_tasks"}
        fireworks = []
        for index, chunk in enumerate(_chunks(items, self.get("number of chunks"))):
            spec = {**copy.deepcopy(base), split: chunk}
            child = load_task({**copy.deepcopy(task), "chunk_number": index})
            fireworks.append(Firework(child, spec=spec, name=f"{self._fw_name} {index}"))
        return fireworks


# ---- JoinDictTask, JoinListTask, ImportDataTask ---------------------------------


def _output_key(task):
    output = task["output"]
    if not isinstance(output, str):
        raise TaskError(f"{task.fw_name}: 'output' must be a spec key, got {output!r:.60}")
    if not isinstance(task["inputs"], list):
        raise TaskError(f"{task.fw_name}: 'inputs' must be a list of spec keys")
    return output


class JoinDictTask(FiretaskBase):
    """Gather spec keys into one mapping (new, or the one already under ``output``)."""

    _fw_name = "JoinDictTask"
    required_params = ("inputs", "output")
    optional_params = ("rename",)

    def run_task(self, fw_spec):
        output = _output_key(self)
        joined = copy.deepcopy(fw_spec.get(output, {}))
        if not isinstance(joined, dict):
            raise TaskError(
                f"JoinDictTask: spec[{output!r}] holds {type(joined).__name__}, not a mapping to join into"
            )
        rename = self.get("rename") or {}
        if not isinstance(rename, dict):
            raise TaskError("JoinDictTask: 'rename' must map input keys to new names")
        for key in self["inputs"]:
            joined[rename.get(key, key)] = _spec_value(fw_spec, key, "JoinDictTask")
        return FWAction(update_spec={output: joined})


class JoinListTask(FiretaskBase):
    """Append the values of spec keys to a list (new, or the one already under ``output``)."""

    _fw_name = "JoinListTask"
    required_params = ("inputs", "output")

    def run_task(self, fw_spec):
        output = _output_key(self)
        joined = copy.deepcopy(fw_spec.get(output, []))
        if not isinstance(joined, list):
            raise TaskError(
                f"JoinListTask: spec[{output!r}] holds {type(joined).__name__}, not a list to join into"
            )
        joined += [_spec_value(fw_spec, key, "JoinListTask") for key in self["inputs"]]
        return FWAction(update_spec={output: joined})


def _read_data(filename):
    fmt = filename.rsplit(".", 1)[-1]
    if fmt not in ("json", "yaml"):
        raise TaskError(f"ImportDataTask: {filename!r} must end in .json or .yaml")
    try:
        with open(filename, encoding="utf-8") as f:
            if fmt == "json":
                return json.load(f)
            from ruamel.yaml import YAML

            return YAML(typ="safe", pure=True).load(f)
    except OSError as exc:
        raise TaskError(f"ImportDataTask cannot read {filename}: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSON and YAML syntax errors both derive from it
        raise TaskError(f"ImportDataTask: {filename} is not valid {fmt}: {exc}") from None


class ImportDataTask(FiretaskBase):
    """Put a JSON/YAML file's data at ``mapstring`` ("a/b/c": spec[a][b][c]) for the children.

    A mapping is merged into a mapping already there; anything else replaces it.
    """

    _fw_name = "ImportDataTask"
    required_params = ("filename", "mapstring")

    def run_task(self, fw_spec):
        filename, mapstring = self["filename"], self["mapstring"]
        if not isinstance(filename, str) or not isinstance(mapstring, str) or not mapstring:
            raise TaskError("ImportDataTask: 'filename' and 'mapstring' must be text")
        data = _read_data(filename)
        keys = mapstring.split("/")
        root = {keys[0]: copy.deepcopy(fw_spec.get(keys[0]))}
        leaf = root
        for depth, key in enumerate(keys[:-1]):
            if not isinstance(leaf.get(key), dict):
                raise TaskError(
                    f"ImportDataTask: mapstring {mapstring!r}: "
                    f"{'/'.join(keys[: depth + 1])!r} is not a mapping in the spec"
                )
            leaf = leaf[key]
        last = keys[-1]
        if isinstance(data, dict) and isinstance(leaf.get(last), dict):
            leaf[last].update(data)
        else:
            leaf[last] = data
        return FWAction(update_spec=root)
