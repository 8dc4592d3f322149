"""FWAction: what a finished task asks of the workflow, and DictMod updates.

The LaunchPad applies an action (``LaunchPad.complete_launch``); this module
holds the data and the pure spec-editing rules so both are testable alone.
"""

import copy

from .errors import InvalidWorkflowError, TaskError
from .serializable import FWSerializable


class FWAction(FWSerializable):
    """The result of a Firetask: data to store and changes to the workflow."""

    KEYS = (
        "stored_data",
        "exit",
        "update_spec",
        "mod_spec",
        "additions",
        "detours",
        "defuse_children",
        "defuse_workflow",
        "propagate",
    )

    def __init__(
        self,
        stored_data=None,
        exit=False,
        update_spec=None,
        mod_spec=None,
        additions=None,
        detours=None,
        defuse_children=False,
        defuse_workflow=False,
        propagate=False,
    ):
        self.stored_data = _as_mapping(stored_data, "stored_data")
        self.exit = bool(exit)
        self.update_spec = _as_mapping(update_spec, "update_spec")
        self.mod_spec = _as_list(mod_spec)
        self.additions = [_as_workflow(w) for w in _as_list(additions)]
        self.detours = [_as_workflow(w) for w in _as_list(detours)]
        self.defuse_children = bool(defuse_children)
        self.defuse_workflow = bool(defuse_workflow)
        self.propagate = bool(propagate)
        for mod in self.mod_spec:
            if not isinstance(mod, dict):
                raise TaskError(f"mod_spec entries must be mappings, got {mod!r:.80}")

    @property
    def skip_remaining_tasks(self):
        return self.exit or self.defuse_children or self.defuse_workflow

    @property
    def changes_workflow(self):
        return bool(
            self.update_spec
            or self.mod_spec
            or self.additions
            or self.detours
            or self.defuse_children
            or self.defuse_workflow
        )

    def to_dict(self):
        return {
            "stored_data": self.stored_data,
            "exit": self.exit,
            "update_spec": self.update_spec,
            "mod_spec": self.mod_spec,
            "additions": [w.to_dict() for w in self.additions],
            "detours": [w.to_dict() for w in self.detours],
            "defuse_children": self.defuse_children,
            "defuse_workflow": self.defuse_workflow,
            "propagate": self.propagate,
        }

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise TaskError(f"an FWAction must be a mapping, got {type(d).__name__}")
        if "append_wfs" in d and not d["append_wfs"]:  # FireWorks 2.1 writes it, mostly empty
            d = {k: v for k, v in d.items() if k != "append_wfs"}
        unknown = set(d) - set(cls.KEYS)
        if unknown:
            raise TaskError(f"unknown FWAction keys: {', '.join(sorted(unknown))}")
        return cls(**d)

    def merged_with(self, other):
        """Combine the actions of successive tasks of one firework."""
        return FWAction(
            stored_data={**self.stored_data, **other.stored_data},
            exit=self.exit or other.exit,
            update_spec={**self.update_spec, **other.update_spec},
            mod_spec=self.mod_spec + other.mod_spec,
            additions=self.additions + other.additions,
            detours=self.detours + other.detours,
            defuse_children=self.defuse_children or other.defuse_children,
            defuse_workflow=self.defuse_workflow or other.defuse_workflow,
            propagate=self.propagate or other.propagate,
        )

    def __repr__(self):
        parts = [f"{k}={getattr(self, k)!r}" for k in self.KEYS if getattr(self, k)]
        return f"FWAction({', '.join(parts)})"

    def __eq__(self, other):
        return isinstance(other, FWAction) and self.to_dict() == other.to_dict()

    __hash__ = None


def _as_mapping(value, name):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaskError(
            f"FWAction {name} must be a mapping of keys to values, got {type(value).__name__}: {value!r:.60}"
        )
    return dict(value)


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_workflow(value):
    from .models import Firework, Workflow, as_workflow

    if not isinstance(value, (Workflow, Firework, dict)):
        raise TaskError(f"FWAction additions/detours must be workflows or fireworks, got {value!r:.80}")
    try:
        return as_workflow(value)
    except InvalidWorkflowError as exc:
        raise TaskError(f"bad workflow in FWAction: {exc}") from None


# ---- DictMod: Mongo-like edits of a spec, as FireWorks' mod_spec ----------


def _walk(doc, path, create=True):
    """The mapping that holds the last key of ``path``, and that key.

    A non-mapping in the way is an error, not something to overwrite: a
    typo in a mod_spec must not silently replace a child's data.
    """
    keys = path.split("->") if "->" in path else path.split(".")
    for depth, key in enumerate(keys[:-1]):
        if key not in doc:
            if not create:
                return None, keys[-1]
            doc[key] = {}
        elif not isinstance(doc[key], dict):
            where = "->".join(keys[: depth + 1])
            raise TaskError(
                f"mod_spec path {path!r}: {where!r} holds "
                f"{type(doc[key]).__name__} {doc[key]!r:.40}, not a mapping"
            )
        doc = doc[key]
    return doc, keys[-1]


def _list_at(target, key, path, op, create=True):
    """The list ``target[key]`` that ``op`` edits (created empty if allowed)."""
    if key not in target and create:
        target[key] = []
    value = target.get(key)
    if not isinstance(value, list):
        raise TaskError(
            f"mod_spec {op} {path!r}: the value there is {type(value).__name__} {value!r:.40}, not a list"
        )
    return value


def _values(values, path, op):
    if not isinstance(values, (list, tuple)):
        raise TaskError(f"mod_spec {op} {path!r} needs a list of values, got {values!r:.40}")
    return list(values)


def _set(doc, path, value):
    target, key = _walk(doc, path)
    target[key] = value


def _unset(doc, path, _value=None):
    target, key = _walk(doc, path, create=False)
    if target is not None:
        target.pop(key, None)


def _push(doc, path, value):
    target, key = _walk(doc, path)
    _list_at(target, key, path, "_push").append(value)


def _push_all(doc, path, values):
    target, key = _walk(doc, path)
    _list_at(target, key, path, "_push_all").extend(_values(values, path, "_push_all"))


def _inc(doc, path, amount):
    target, key = _walk(doc, path)
    current = target.get(key, 0)
    for value in (current, amount):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TaskError(f"mod_spec _inc {path!r}: {value!r:.40} is not a number")
    target[key] = current + amount


def _add_to_set(doc, path, value):
    target, key = _walk(doc, path)
    items = _list_at(target, key, path, "_add_to_set")
    if value not in items:
        items.append(value)


def _pull(doc, path, value):
    target, key = _walk(doc, path, create=False)
    if target is not None and key in target:
        items = _list_at(target, key, path, "_pull", create=False)
        target[key] = [v for v in items if v != value]


def _pull_all(doc, path, values):
    target, key = _walk(doc, path, create=False)
    values = _values(values, path, "_pull_all")
    if target is not None and key in target:
        items = _list_at(target, key, path, "_pull_all", create=False)
        target[key] = [v for v in items if v not in values]


def _pop(doc, path, where):
    """Mongo's $pop: -1 removes the first item, 1 the last."""
    if where not in (1, -1) or isinstance(where, bool):
        raise TaskError(f"mod_spec _pop {path!r} takes 1 (last item) or -1 (first item), got {where!r}")
    target, key = _walk(doc, path, create=False)
    if target is not None and key in target:
        items = _list_at(target, key, path, "_pop", create=False)
        if items:
            items.pop(0 if where == -1 else -1)


def _rename(doc, path, new_name):
    target, key = _walk(doc, path, create=False)
    if target is not None and key in target:
        value = target.pop(key)
        _set(doc, new_name, value)


MOD_OPERATORS = {
    "_set": _set,
    "_unset": _unset,
    "_push": _push,
    "_push_all": _push_all,
    "_inc": _inc,
    "_add_to_set": _add_to_set,
    "_pull": _pull,
    "_pull_all": _pull_all,
    "_pop": _pop,
    "_rename": _rename,
}


def apply_mod(spec, mod):
    """Return a copy of ``spec`` with one DictMod ``mod`` applied."""
    spec = copy.deepcopy(spec)
    for op, fields in mod.items():
        func = MOD_OPERATORS.get(op)
        if func is None:
            raise TaskError(f"unknown mod_spec operator {op!r}; use one of {', '.join(MOD_OPERATORS)}")
        if not isinstance(fields, dict):
            raise TaskError(f"mod_spec {op} needs a mapping of key paths to values")
        for path, value in fields.items():
            if not isinstance(path, str) or not path:
                raise TaskError(f"mod_spec {op}: key paths must be non-empty strings, got {path!r}")
            func(spec, path, value)
    return spec


def apply_action_to_spec(spec, action):
    """A child's spec after ``update_spec`` then each ``mod_spec``."""
    spec = {**spec, **copy.deepcopy(action.update_spec)}
    for mod in action.mod_spec:
        spec = apply_mod(spec, mod)
    return spec
