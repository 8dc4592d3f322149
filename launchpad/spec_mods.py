"""DictMod: Mongo-like edits of a spec, as FireWorks' ``mod_spec``, and how an
FWAction's ``update_spec``/``mod_spec`` change a child's spec.

Pure functions over plain dicts, below the models: the models, the LaunchPad's
modules and the rocket all apply them.
"""

import copy

from .errors import TaskError


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
