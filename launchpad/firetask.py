"""Firetasks: the base class and the registry that resolves ``_fw_name``.

A task is a dict of its parameters (as in FireWorks, so ``self["script"]``
works in ported code) plus a ``run_task(fw_spec)`` method. Files name a task
by ``_fw_name``: a short name (``ScriptTask``, ``Addition Task``) or
FireWorks' ``{{module.Class}}`` form; both resolve through one registry.
"""

import importlib
import os

from .errors import UnknownTaskError

_REGISTRY = {}
_BUILTIN_MODULES = (
    "launchpad.tasks.script",
    "launchpad.tasks.python",
    "launchpad.tasks.files",
    "launchpad.tasks.templates",
)
USER_PACKAGES_ENV = "STARSHELL_USER_PACKAGES"
ENTRY_POINT_GROUP = "starshell.firetasks"


def _full_name(cls):
    return "{{%s.%s}}" % (cls.__module__, cls.__name__)


def register_task(cls, name=None):
    """Make ``cls`` resolvable by ``name`` (default: its ``_fw_name``)."""
    _REGISTRY[name or cls._fw_name] = cls
    _REGISTRY.setdefault(cls.__name__, cls)
    _REGISTRY.setdefault(_full_name(cls), cls)
    return cls


def explicit_serialize(cls):
    """Decorator: name the task by its bare class name in files (FireWorks' idiom)."""
    cls._fw_name = cls.__name__
    return register_task(cls)


class FiretaskBase(dict):
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
            raise UnknownTaskError(
                f"task {self.fw_name} is missing required parameter(s): {', '.join(missing)}"
            )

    @property
    def fw_name(self):
        return type(self)._fw_name

    def run_task(self, fw_spec):
        raise NotImplementedError(f"{self.fw_name} does not define run_task")

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


def _load_builtins():
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def _load_user_packages():
    """Import packages that users declare as holding Firetasks."""
    names = [p.strip() for p in os.environ.get(USER_PACKAGES_ENV, "").split(",") if p.strip()]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UnknownTaskError(
                f"cannot import task package {name!r} named in ${USER_PACKAGES_ENV}: {exc}"
            ) from None
    try:
        from importlib.metadata import entry_points
    except ImportError:  # pragma: no cover - Python < 3.8
        return
    eps = entry_points()
    group = eps.select(group=ENTRY_POINT_GROUP) if hasattr(eps, "select") else eps.get(ENTRY_POINT_GROUP, [])
    for ep in group:
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not hide the others
            raise UnknownTaskError(f"task plugin {ep.name!r} failed to load: {exc}") from None


def _import_full_name(name):
    """Resolve ``{{pkg.module.Class}}`` by importing it, or by its class name.

    FireWorks' own paths (``{{fireworks.user_objects...ScriptTask}}``) must
    reach the built-in task by name even where FireWorks itself is installed,
    so a class that is not a starshell Firetask falls back to the registry.
    """
    dotted = name[2:-2]
    module_name, _, class_name = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        cls = None
    if isinstance(cls, type) and issubclass(cls, FiretaskBase):
        return cls
    return _REGISTRY.get(class_name)


def task_class(name):
    """The Firetask class registered under ``name``; raises UnknownTaskError."""
    cls = _REGISTRY.get(name)
    if cls is None:
        _load_builtins()
        cls = _REGISTRY.get(name)
    if cls is None:
        _load_user_packages()
        cls = _REGISTRY.get(name)
    if cls is None and name.startswith("{{") and name.endswith("}}"):
        cls = _import_full_name(name)
    if cls is None:
        raise UnknownTaskError(
            f"unknown task {name!r}: import the package that defines it, or list it in "
            f"${USER_PACKAGES_ENV} (comma-separated module names)"
        )
    return cls


def load_task(d):
    """Build a task object from its dict form."""
    if isinstance(d, FiretaskBase):
        return d
    if not isinstance(d, dict) or "_fw_name" not in d:
        raise UnknownTaskError(f"a task must be a mapping with a _fw_name key, got {d!r:.80}")
    if not isinstance(d["_fw_name"], str) or not d["_fw_name"]:
        raise UnknownTaskError(f"a task's _fw_name must be a task name, got {d['_fw_name']!r:.80}")
    return task_class(d["_fw_name"]).from_dict(d)
