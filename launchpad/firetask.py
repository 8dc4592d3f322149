"""Firetasks: the base class and the registry that resolves ``_fw_name``.

A task is a dict of its parameters (as in FireWorks, so ``self["script"]``
works in ported code) plus a ``run_task(fw_spec)`` method. The naming rules
are FireWorks':

- ``{{module.Class}}`` is that class, found by importing ``module`` in
  whichever process reads the name (``@explicit_serialize`` and classes
  without a ``_fw_name`` are stored so), never by the class name alone;
  FireWorks' own ``{{fireworks...ScriptTask}}`` paths reach our built-ins.
- A short name (``ScriptTask``, ``Addition Task``) is the one class that
  declares it as ``_fw_name``, among the built-ins, the imported modules,
  ``$STARSHELL_USER_PACKAGES`` and ``starshell.firetasks`` entry points.
  Two classes declaring one short name get a TaskNameWarning when the
  second is defined; the short name is then refused (AmbiguousTaskError)
  and each class is stored by its full name, so one never runs for the other.
"""

import importlib
import os
import sys
import warnings

from .errors import (
    AmbiguousTaskError,
    MissingTaskParameterError,
    TaskNameWarning,
    UnexpectedTaskParameterError,
    UnknownTaskError,
)
from .serializable import OwnDatesSerializable

# name -> class, or a _Clash for a short name that several classes declare.
_REGISTRY: dict = {}
# The built-ins' short names, known without importing them, so that a user
# class declaring one is caught whichever of the two is defined first.
_BUILTIN_NAMES = frozenset(
    (
        "ScriptTask",
        "PyTask",
        "FileWriteTask",
        "FileDeleteTask",
        "FileTransferTask",
        "CompressDirTask",
        "DecompressDirTask",
        "ArchiveDirTask",
        "TemplateWriterTask",
        "CommandLineTask",
        "ForeachTask",
        "JoinDictTask",
        "JoinListTask",
        "ImportDataTask",
        "AddFilesTask",
        "GetFilesTask",
        "GetFilesByQueryTask",
        "DeleteFilesTask",
    )
)
_BUILTIN_PACKAGE = "launchpad.tasks"
# Built-in task modules beyond launchpad.tasks' own exports, imported only with the built-ins.
_BUILTIN_MODULES = ("launchpad.tasks.dataflow", "launchpad.tasks.filepad")
USER_PACKAGES_ENV = "STARSHELL_USER_PACKAGES"
ENTRY_POINT_GROUP = "starshell.firetasks"
_IMPORT_HINT = (
    "put the directory that holds it on PYTHONPATH or install its package, "
    "on this machine and on every worker"
)
_ready: list = []  # non-empty once $STARSHELL_USER_PACKAGES was imported in this process


def _is_full(name):
    return name.startswith("{{") and name.endswith("}}")


def _module_path(cls):
    """The module to import for ``cls``; for a script's ``__main__``, the script's name (as FireWorks)."""
    module = cls.__module__
    if module != "__main__":
        return module
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":  # python -m pkg.mod
        return spec.name
    path = getattr(main, "__file__", None)
    return os.path.splitext(os.path.basename(path))[0] if path else module


def _braced(module, name):
    return "{{" + module + "." + name + "}}"


def _full_name(cls):
    return _braced(_module_path(cls), cls.__name__)


full_name = _full_name  # the {{module.Class}} name of any class (serialization names non-tasks so)


def _dotted(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


class _Clash:
    """Holds a short name's place in the registry when several classes declare it."""

    def __init__(self, name, classes):
        self.name, self.classes = name, classes

    def describe(self):
        names = [_dotted(c) for c in self.classes]
        return f"both {names[0]} and {names[1]}" if len(names) == 2 else "all of " + ", ".join(names)

    def error(self):
        options = " or ".join(_full_name(c) for c in self.classes)
        return AmbiguousTaskError(
            f"task name {self.name!r} is declared by {self.describe()}: write the full name of "
            f"the one you mean ({options}), or give one of them another _fw_name"
        )


def _declares(held, name):
    """Whether ``held`` holds ``name`` as a declared ``_fw_name`` (not only as its class name)."""
    if isinstance(held, _Clash):
        return any(_declares(c, name) for c in held.classes)
    return held._fw_name == name or held.__name__ != name


def _claim(name, cls, declared):
    """Give ``cls`` the short ``name``; a declared name outranks a bare class name."""
    if declared and name in _BUILTIN_NAMES and not cls.__module__.startswith(_BUILTIN_PACKAGE + "."):
        _load_builtins()
    held = _REGISTRY.get(name)
    members = held.classes if isinstance(held, _Clash) else [held] if held is not None else []
    if cls in members:
        return
    rivals = [c for c in members if _dotted(c) != _dotted(cls)]  # same place: a redefinition
    if not rivals or (declared and not _declares(held, name)):
        _REGISTRY[name] = cls
    elif declared or not _declares(held, name):
        clash = _REGISTRY[name] = _Clash(name, rivals + [cls])
        if declared:
            warnings.warn(
                TaskNameWarning(
                    f"task name {name!r} is declared by {clash.describe()}; it now names neither: "
                    f"files must say {' or '.join(_full_name(c) for c in clash.classes)}, or give "
                    f"{_dotted(cls)} a _fw_name of its own (or use @explicit_serialize)"
                ),
                stacklevel=4,
            )


def register_task(cls, name=None):
    """Make ``cls`` resolvable by ``name`` (default: its ``_fw_name``) and by its full name."""
    _REGISTRY[_braced(cls.__module__, cls.__name__)] = cls
    _REGISTRY[_full_name(cls)] = cls
    declared = name or cls._fw_name
    if not _is_full(declared):
        _claim(declared, cls, True)
    if cls.__name__ != declared:  # what starshell 0.1 stored for @explicit_serialize
        _claim(cls.__name__, cls, False)
    return cls


def _release(name, cls):
    """Take back the short ``name`` that ``cls`` declared before @explicit_serialize renamed it."""
    held = _REGISTRY.get(name)
    rest = [c for c in held.classes if c is not cls] if isinstance(held, _Clash) else []
    if held is cls:
        del _REGISTRY[name]
    elif rest:
        _REGISTRY[name] = rest[0] if len(rest) == 1 else _Clash(name, rest)


def explicit_serialize(cls):
    """Decorator: name the task ``{{module.Class}}`` in files, importable by any process
    (FireWorks' idiom)."""
    if cls._fw_name and not _is_full(cls._fw_name):
        _release(cls._fw_name, cls)
    cls._fw_name = _full_name(cls)
    return register_task(cls)


def stored_name(cls):
    """The name ``cls`` is written under: its ``_fw_name``, or its full name if that is contested."""
    name = cls._fw_name
    if isinstance(_REGISTRY.get(name), _Clash):
        return _full_name(cls)
    return name


def _declares_optional_params(cls):
    """Whether a user's task class (or a base of it) lists ``optional_params``: FireWorks then
    refuses other keyword arguments; a class that lists none takes any. The built-ins list
    theirs as documentation and keep FireWorks' looser rules (PyTask's auto_kwargs)."""
    if cls.__module__.startswith(_BUILTIN_PACKAGE):
        return False
    return any(
        "optional_params" in vars(c)
        for c in cls.__mro__
        if c is not FiretaskBase and issubclass(c, FiretaskBase)
    )


class FiretaskBase(dict, OwnDatesSerializable):
    """Base of every Firetask. Subclasses define ``run_task(self, fw_spec)``.

    ``required_params`` are checked when the task is built, so a bad workflow
    file fails at ``lpad add`` rather than hours later on a compute node.
    """

    required_params = ()
    optional_params = ()
    _fw_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_fw_name" not in cls.__dict__ or cls.__dict__["_fw_name"] is None:
            cls._fw_name = _full_name(cls)
        register_task(cls)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pop("_fw_name", None)
        missing = [p for p in self.required_params if p not in self]
        if missing:
            raise MissingTaskParameterError(
                f"task {self.fw_name} is missing required parameter(s): {', '.join(missing)}"
            )
        if _declares_optional_params(type(self)):  # FireWorks: then no other keyword is allowed
            allowed = (*self.required_params, *self.optional_params)
            unknown = [k for k in kwargs if k not in allowed and k != "_fw_name"]
            if unknown:
                raise UnexpectedTaskParameterError(
                    f"task {self.fw_name} takes no parameter(s) {', '.join(unknown)}; "
                    f"it takes: {', '.join(allowed)}"
                )

    _as_written = None  # the {{module.Class}} name this task was read by, kept on writing

    @property
    def fw_name(self):
        return self._as_written or stored_name(type(self))

    def run_task(self, fw_spec):
        raise NotImplementedError(f"{self.fw_name} does not define run_task")

    def params_source(self, fw_spec):
        """Where a task that offers FireWorks' ``use_global_spec`` reads its parameters: the
        spec's root when set (FireWorks' docs spell it ``_use_global_spec``), else itself."""
        return fw_spec if (self.get("use_global_spec") or self.get("_use_global_spec")) else self

    def to_dict(self):
        return {"_fw_name": self.fw_name, **self}

    @classmethod
    def from_dict(cls, d):
        return cls(d)

    def __repr__(self):
        return f"<{self.fw_name} {dict(self)!r}>"

    # dict subclasses compare by content; tasks also compare by type.
    def __eq__(self, other):
        return type(self) is type(other) and dict.__eq__(self, other)

    __hash__ = None


def _builtin_classes():
    """``{class name: class}`` of every built-in: launchpad.tasks' exports and _BUILTIN_MODULES' tasks."""
    tasks = importlib.import_module(_BUILTIN_PACKAGE)
    found = {name: getattr(tasks, name) for name in tasks.__all__}
    for module_name in _BUILTIN_MODULES:
        module = importlib.import_module(module_name)
        found.update(
            (name, cls)
            for name, cls in vars(module).items()
            if isinstance(cls, type) and issubclass(cls, FiretaskBase) and cls.__module__ == module_name
        )
    return found


def _load_builtins():
    """Import the built-ins and (re)register them: cheap once imported."""
    for cls in _builtin_classes().values():
        register_task(cls)


def _load_user_packages():
    """Import the modules $STARSHELL_USER_PACKAGES lists (read each time: it may change)."""
    names = [p.strip() for p in os.environ.get(USER_PACKAGES_ENV, "").split(",") if p.strip()]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UnknownTaskError(
                f"cannot import task package {name!r} named in ${USER_PACKAGES_ENV}: {exc}"
            ) from None
    _ready.append(True)


def _load_entry_points():
    """Import the ``starshell.firetasks`` plugins: only when a name is still missing."""
    from .plugins import entry_points_in

    for ep in entry_points_in(ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not hide the others
            raise UnknownTaskError(f"task plugin {ep.name!r} failed to load: {exc}") from None


def _is_fireworks(module_name):
    return module_name == "fireworks" or module_name.startswith("fireworks.")


def _fireworks_builtin(name, class_name):
    """Our built-in for FireWorks' own ``{{fireworks...Class}}`` path (not cached: FireWorks may appear)."""
    builtins = _builtin_classes()
    if class_name in builtins:
        return builtins[class_name]
    raise UnknownTaskError(
        f"task {name!r} is FireWorks' own and has no starshell counterpart; "
        f"the built-ins are {', '.join(sorted(builtins))}"
    )


def _import_full_name(name):
    """Resolve ``{{pkg.module.Class}}`` by importing ``pkg.module``; errors say what failed and why."""
    module_name, _, class_name = name[2:-2].strip().rpartition(".")
    if not module_name:
        return _REGISTRY.get(class_name)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may fail in any way; say how, keep the cause
        if _is_fireworks(module_name):
            return _fireworks_builtin(name, class_name)
        raise UnknownTaskError(
            f"task {name!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {exc}); {_IMPORT_HINT}"
        ) from exc
    cls = getattr(module, class_name, None)
    if isinstance(cls, type) and issubclass(cls, FiretaskBase):
        _REGISTRY[name] = cls
        return cls
    if _is_fireworks(module_name):
        return _fireworks_builtin(name, class_name)
    if cls is None:
        where = getattr(module, "__file__", None) or "?"
        raise UnknownTaskError(
            f"task {name!r}: module {module_name!r} ({where}) has no class "
            f"{class_name!r}; was it renamed or moved?"
        )
    raise UnknownTaskError(
        f"task {name!r}: {module_name}.{class_name} is not a Firetask (a subclass of launchpad.FiretaskBase)"
    )


def _resolve(name):
    """The slow path of task_class: load what may define ``name``, then look again."""
    _load_builtins()
    _load_user_packages()
    cls = _REGISTRY.get(name)
    if cls is None and _is_full(name):
        cls = _import_full_name(name)
    if cls is None:
        _load_entry_points()
        cls = _REGISTRY.get(name)
    if isinstance(cls, _Clash):
        raise cls.error()
    if cls is None:
        raise UnknownTaskError(
            f"unknown task {name!r}: import the package that defines it, or list it in "
            f"${USER_PACKAGES_ENV} (comma-separated module names), or write its full name "
            "'{{module.Class}}'"
        )
    return cls


def task_class(name):
    """The Firetask class ``name`` stands for; raises UnknownTaskError
    (runs for every task: one dict lookup)."""
    cls = _REGISTRY.get(name)
    if isinstance(cls, type) and _ready:
        return cls
    return _resolve(name)


def load_task(d):
    """Build a task object from its dict form."""
    if isinstance(d, FiretaskBase):
        return d
    if not isinstance(d, dict) or "_fw_name" not in d:
        raise UnknownTaskError(f"a task must be a mapping with a _fw_name key, got {d!r:.80}")
    name = d["_fw_name"]
    if not isinstance(name, str) or not name:
        raise UnknownTaskError(f"a task's _fw_name must be a task name, got {name!r:.80}")
    cls = task_class(name)
    task = cls.from_dict(d)
    if name != cls._fw_name and _is_full(name) and not _is_fireworks(name[2:].lstrip()):
        task._as_written = name  # stays importable as the user wrote it
    return task
