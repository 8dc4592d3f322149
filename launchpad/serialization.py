"""FireWorks' ``fw_serializers`` API: a ported ``from fireworks.utilities.fw_serializers
import ...`` becomes ``from launchpad.serialization import ...``.

The contract itself (FWSerializable, dates, formats) is in ``serializable``;
this module adds what needs the task registry: building any object from a
dict by its ``_fw_name``.
"""

import importlib
import os

from . import firetask
from .errors import FWFormatError, FWSerializationError, UnknownTaskError
from .firetask import FiretaskBase, load_task
from .serializable import (
    DATETIME_HANDLER,
    SERIALIZABLE_CLASSES,
    FWSerializable,
    format_of,
    loads,
    reconstitute_dates,
    recursive_dict,
    recursive_serialize,
    serialize_fw,
)


def explicit_serialize(cls):
    """Decorator: name ``cls`` ``{{module.Class}}`` in dicts and files, as FireWorks does.

    Firetasks get the task registry's rules (firetask.explicit_serialize); any
    other FWSerializable class is found again by that name in any process that
    can import its module.
    """
    if isinstance(cls, type) and issubclass(cls, FiretaskBase):
        return firetask.explicit_serialize(cls)
    cls._fw_name = firetask.full_name(cls)
    SERIALIZABLE_CLASSES[cls._fw_name] = cls
    return cls


def load_object(obj_dict):
    """The object ``obj_dict`` describes, found by its ``_fw_name``: a Firetask by the
    task registry's rules, any other FWSerializable by its ``{{module.Class}}`` or
    declared name. FWSerializationError says what could not be found."""
    if not isinstance(obj_dict, dict) or "_fw_name" not in obj_dict:
        raise FWSerializationError(f"load_object needs a mapping with a _fw_name key, got {obj_dict!r:.80}")
    name = obj_dict["_fw_name"]
    cls = _serializable_class(name)
    if cls is not None:
        return cls.from_dict(obj_dict)
    return load_task(obj_dict)


def _serializable_class(name):
    """A non-task FWSerializable class named ``name``, importing ``{{module.Class}}``'s module."""
    cls = SERIALIZABLE_CLASSES.get(name)
    if cls is None and isinstance(name, str) and name.startswith("{{") and name.endswith("}}"):
        module = name[2:-2].strip().rpartition(".")[0]
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - load_task below reports the import failure in full
            return None
        cls = SERIALIZABLE_CLASSES.get(name)
    return cls


def load_object_from_file(filename, f_format=None):
    """``load_object`` of a json or yaml file (format from ``f_format`` or the extension)."""
    try:
        fmt = format_of(filename, f_format)
    except FWFormatError as exc:  # FireWorks' words here, which ported tests match
        name = f_format or os.path.splitext(str(filename))[1].lstrip(".")
        raise FWFormatError(f"Unknown file format {name} cannot be loaded! {exc}") from None
    with open(filename, encoding="utf-8") as handle:
        data = loads(handle.read(), fmt, str(filename))
    if "_fw_name" not in data:
        raise FWSerializationError(f"{filename}: no _fw_name key, so no class to load it with")
    return load_object(data)


def _recursive_load(obj):
    """Objects for every mapping with a ``_fw_name``, datetimes for ISO date-time text."""
    if isinstance(obj, FWSerializable):
        return obj
    if isinstance(obj, dict):
        if "_fw_name" in obj:
            return load_object(obj)
        return {k: _recursive_load(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_recursive_load(v) for v in obj]
    if isinstance(obj, str):
        return reconstitute_dates(obj)
    return obj


def recursive_deserialize(func):
    """Decorator for ``from_dict(cls, m_dict)``: ``m_dict``'s values loaded as objects and dates."""

    def _decorator(self, *args, **kwargs):
        new_args = list(args)
        new_args[0] = {k: _recursive_load(v) for k, v in args[0].items()}
        return func(self, *new_args, **kwargs)

    _decorator.__name__, _decorator.__doc__ = func.__name__, func.__doc__
    return _decorator


def get_default_serialization(cls):
    """FireWorks' default name of a class, ``<top package>::<Class>``; a class defined in
    ``__main__`` has none another process could import (FWSerializationError)."""
    package = cls.__module__.split(".")[0]
    if package == "__main__":
        raise FWSerializationError(
            f"{cls.__name__} is defined in the running script; define it in an importable module"
        )
    return f"{package}::{cls.__name__}"


__all__ = [
    "DATETIME_HANDLER",
    "get_default_serialization",
    "FWFormatError",
    "FWSerializable",
    "FWSerializationError",
    "UnknownTaskError",
    "explicit_serialize",
    "load_object",
    "load_object_from_file",
    "reconstitute_dates",
    "recursive_deserialize",
    "recursive_dict",
    "recursive_serialize",
    "serialize_fw",
]
