"""PyTask: call a Python function named by a dotted path."""

import builtins
import importlib

from ..actions import FWAction
from ..errors import TaskError
from ..firetask import FiretaskBase

# Benchmarks run thousands of tiny PyTasks a second: resolve each name once.
_FUNCS = {}


def resolve_function(name):
    """The callable named ``name`` ("pkg.mod.func", "pkg.mod.Class.method" or a builtin)."""
    func = _FUNCS.get(name)
    if func is None:
        func = _FUNCS[name] = _import_function(name)
    return func


def _import_function(name):
    parts = str(name).split(".")
    if len(parts) == 1:
        if not hasattr(builtins, name):
            raise TaskError(
                f"PyTask func {name!r} is not a builtin; "
                f"give a dotted path such as 'mypackage.module.function'"
            )
        return getattr(builtins, name)
    # The longest importable prefix is the module; the rest are attributes.
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if _names_prefix(exc.name, module_name):
                continue  # not a module: try a shorter prefix
            raise TaskError(
                f"PyTask func {name!r}: importing {module_name} failed: "
                f"{exc}; install the missing package on this worker"
            ) from None
        except ImportError as exc:
            raise TaskError(f"PyTask func {name!r}: importing {module_name} failed: {exc}") from None
        return _get_attributes(obj, parts[split:], name)
    raise TaskError(
        f"PyTask func {name!r}: no module {parts[0]!r} on this worker; install it or add it to PYTHONPATH"
    )


def _names_prefix(missing, module_name):
    """Whether the missing module is ``module_name`` or a parent package of it."""
    return bool(missing) and (module_name == missing or module_name.startswith(missing + "."))


def _get_attributes(obj, attrs, name):
    for attr in attrs:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise TaskError(
                f"PyTask func {name!r}: {attr!r} not found in {getattr(obj, '__name__', obj)!r}"
            ) from None
    if not callable(obj):
        raise TaskError(f"PyTask func {name!r} is not callable")
    return obj


class PyTask(FiretaskBase):
    """Call ``func(*args, *inputs, **kwargs)`` and turn its result into an FWAction.

    ``inputs`` are spec keys appended to ``args``; ``outputs`` name the spec
    keys the children get the result under (one key, or one per returned
    item); with ``chunk_number`` (set by FireWorks' ForeachTask) the result is
    pushed onto the key instead. A returned FWAction is passed through as is.
    """

    _fw_name = "PyTask"
    required_params = ("func",)
    optional_params = (
        "args",
        "kwargs",
        "auto_kwargs",
        "stored_data_varname",
        "inputs",
        "outputs",
        "chunk_number",
    )

    def run_task(self, fw_spec):
        func = _FUNCS.get(self["func"]) or resolve_function(self["func"])
        args = self.get("args") or ()
        inputs = self.get("inputs")
        if inputs:
            args = [*args, *_spec_values(fw_spec, inputs)]
        kwargs = self._auto_kwargs() if self.get("auto_kwargs") else self.get("kwargs") or {}
        output = func(*args, **kwargs)
        if isinstance(output, FWAction):
            return output
        outputs = self.get("outputs")
        varname = self.get("stored_data_varname")
        if not outputs and not varname:
            return None
        action = _output_action(outputs, output, self.get("chunk_number"))
        if varname:
            action.stored_data[varname] = output
        return action

    def _auto_kwargs(self):
        """Every parameter PyTask itself does not use, as FireWorks' auto_kwargs."""
        own = self.required_params + self.optional_params
        extra = {k: v for k, v in self.items() if not k.startswith("_") and k not in own}
        return {**(self.get("kwargs") or {}), **extra}


def _as_list(value):
    return [value] if isinstance(value, str) else list(value or ())


def _spec_values(fw_spec, keys):
    values = []
    for key in _as_list(keys):
        if key not in fw_spec:
            raise TaskError(
                f"PyTask input {key!r} is not in the firework's spec; "
                f"a parent task must put it there (e.g. through its outputs)"
            )
        values.append(fw_spec[key])
    return values


def _output_action(outputs, output, chunk_number):
    names = _as_list(outputs)
    if not names:
        return FWAction()
    if len(names) == 1:
        if chunk_number is None:
            return FWAction(update_spec={names[0]: output})
        items = output if isinstance(output, (list, tuple, set)) else [output]
        return FWAction(mod_spec=[{"_push": {names[0]: item}} for item in items])
    if not isinstance(output, (list, tuple)) or len(output) != len(names):
        raise TaskError(
            f"PyTask has {len(names)} outputs {names} but the function returned "
            f"{output!r:.80}; return a sequence of {len(names)} values"
        )
    return FWAction(update_spec=dict(zip(names, output)))
