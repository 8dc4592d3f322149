"""FWSerializable: FireWorks' to_dict/from_dict/to_file contract, and its date rules.

A lower layer than the task registry: firetask, models, actions and worker
build on it, and ``serialization`` (which can also load any object by its
``_fw_name``) builds on them. Dates follow FireWorks: objects hold
``datetime`` values, dicts hold ISO-8601 text, and ``reconstitute_dates``
turns such text back into datetimes.
"""

import datetime
import json
import os

from .errors import FWFormatError, FWSerializationError

# fw_name -> class, for FWSerializable classes other than Firetasks (the task
# registry in firetask.py resolves those).
SERIALIZABLE_CLASSES: dict = {}
_FORMATS = {"json": "json", "yaml": "yaml", "yml": "yaml"}
_FORMAT_HINT = "use json or yaml (or a file name ending in .json, .yaml or .yml)"


def DATETIME_HANDLER(obj):
    """``json.dumps(default=...)``: datetimes as ISO-8601 text, as FireWorks writes them."""
    return obj.isoformat() if isinstance(obj, datetime.datetime) else None


def recursive_dict(obj, preserve_unicode=True):
    """``obj`` as plain JSON-ready data: objects by their ``to_dict``, datetimes as ISO text."""
    return _plain(obj, datetime.datetime.isoformat)


def plain_dict(obj):
    """As :func:`recursive_dict`, with datetimes in the store's form (UTC, no offset,
    microseconds): what starshell's own objects write, so a launch read from the
    store and written back is unchanged."""
    return _plain(obj, date_text)


def date_text(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime(_DATE_FORMATS[0])


def _plain(obj, dates):
    kind = type(obj)
    if kind is dict:  # the common cases first: a plain dict or list has no to_dict
        return {_plain(k, dates): _plain(v, dates) for k, v in obj.items()}
    if kind is list:
        return [_plain(v, dates) for v in obj]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    to_dict = getattr(obj, "to_dict", None) or getattr(obj, "as_dict", None)
    if callable(to_dict) and not isinstance(obj, type):
        return _plain(to_dict(), dates)
    if isinstance(obj, dict):
        return {_plain(k, dates): _plain(v, dates) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, dates) for v in obj]
    if isinstance(obj, datetime.datetime):
        return dates(obj)
    if callable(getattr(obj, "tolist", None)):  # numpy arrays and scalars
        return _plain(obj.tolist(), dates)
    return str(obj)


def recursive_serialize(func):
    """Decorator for ``to_dict``: its result made plain by :func:`recursive_dict`."""

    def _decorator(self, *args, **kwargs):
        return recursive_dict(func(self, *args, **kwargs))

    _decorator.__name__, _decorator.__doc__ = func.__name__, func.__doc__
    return _decorator


def serialize_fw(func):
    """Decorator for ``to_dict``: adds ``_fw_name`` so ``load_object`` can rebuild the object."""

    def _decorator(self, *args, **kwargs):
        m_dict = func(self, *args, **kwargs)
        m_dict["_fw_name"] = self.fw_name
        return m_dict

    _decorator.__name__, _decorator.__doc__ = func.__name__, func.__doc__
    return _decorator


_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")


def reconstitute_dates(obj_dict):
    """Every ISO date-time text in ``obj_dict`` as a datetime (FireWorks' rule: only
    text with a ``T``, so ``2000-02-01`` or a version number stays text)."""
    if isinstance(obj_dict, dict):
        return {k: reconstitute_dates(v) for k, v in obj_dict.items()}
    if isinstance(obj_dict, (list, tuple)):
        return [reconstitute_dates(v) for v in obj_dict]
    if isinstance(obj_dict, str) and "T" in obj_dict:
        return _parse_date(obj_dict) or obj_dict
    return obj_dict


def _parse_date(text):
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def as_datetime(value):
    """A model's date field as an aware UTC datetime (FireWorks 2.x's kind); None stays None.
    Naive values are UTC: the store writes UTC without an offset."""
    if isinstance(value, str):
        value = _parse_date(value) or value
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value
    return value


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def format_of(filename, f_format=None):
    """``json`` or ``yaml`` from ``f_format`` or the file's extension; FWFormatError otherwise."""
    name = f_format if f_format is not None else os.path.splitext(str(filename))[1].lstrip(".")
    fmt = _FORMATS.get(str(name).lower())
    if fmt is None:
        raise FWFormatError(f"Unsupported format {name or '(none)'}: {_FORMAT_HINT}")
    return fmt


def dumps(data, f_format="json", **kwargs):
    fmt = format_of(None, f_format)
    if fmt == "json":
        return json.dumps(data, default=DATETIME_HANDLER, **kwargs)
    from .files import dumps as dump_text

    return dump_text(recursive_dict(data), "yaml")


def loads(text, f_format="json", source="<text>"):
    """The mapping ``text`` holds; FWSerializationError if it holds anything else."""
    from .files import parse_text

    data = parse_text(text, format_of(None, f_format), source)
    if not isinstance(data, dict):  # FireWorks' words, which ported tests match
        raise FWSerializationError(
            f"{source}: Serialized object must be a dict but is {type(data)}: it must be a mapping"
        )
    return data


class FWSerializable:
    """FireWorks' serialization contract: subclasses define ``to_dict`` and ``from_dict``
    and get the formats and files from here."""

    # FireWorks' from_format/from_file turn every ISO date text into a datetime before
    # from_dict, which users' own classes rely on. starshell's classes convert only their
    # own date fields, so text in a spec stays text (docs/fireworks.md), and say False.
    _dates_from_text = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "run_task", None)):  # Firetasks have their own registry
            SERIALIZABLE_CLASSES["{{" + f"{cls.__module__}.{cls.__name__}" + "}}"] = cls
            declared = cls.__dict__.get("_fw_name")
            if isinstance(declared, str):
                SERIALIZABLE_CLASSES[declared] = cls

    @property
    def fw_name(self):
        """The name ``load_object`` finds this class by: ``_fw_name``, else ``{{module.Class}}``."""
        declared = getattr(self, "_fw_name", None)
        if isinstance(declared, str):
            return declared
        return "{{" + f"{type(self).__module__}.{type(self).__name__}" + "}}"

    def to_dict(self):
        raise NotImplementedError(f"{type(self).__name__} does not define to_dict()")

    @classmethod
    def from_dict(cls, m_dict):
        raise NotImplementedError(f"{cls.__name__} does not define from_dict()")

    def as_dict(self):
        return self.to_dict()

    def to_db_dict(self):
        return self.to_dict()

    def to_format(self, f_format="json", **kwargs):
        """This object as json or yaml text (``kwargs`` go to ``json.dumps``)."""
        return dumps(self.to_dict(), f_format, **kwargs)

    @classmethod
    def from_format(cls, f_str, f_format="json"):
        return cls._from_loaded(loads(f_str, f_format))

    @classmethod
    def _from_loaded(cls, data):
        return cls.from_dict(reconstitute_dates(data) if cls._dates_from_text else data)

    def to_file(self, filename, f_format=None, **kwargs):
        """Write this object; the format is ``f_format`` or the file's extension."""
        text = self.to_format(format_of(filename, f_format), **kwargs)
        with open(filename, "w", encoding="utf-8") as handle:
            handle.write(text)

    @classmethod
    def from_file(cls, filename, f_format=None):
        fmt = format_of(filename, f_format)
        with open(filename, encoding="utf-8") as handle:
            return cls._from_loaded(loads(handle.read(), fmt, str(filename)))


class OwnDatesSerializable(FWSerializable):
    """starshell's own objects: they convert only their own date fields, so text in a
    spec stays text (docs/fireworks.md, Deliberate differences)."""

    _dates_from_text = False
