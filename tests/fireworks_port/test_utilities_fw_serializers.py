"""Port of FireWorks 2.1.x fireworks/utilities/tests/test_fw_serializers.py.

A user's own FWSerializable classes, written the FireWorks way (``@serialize_fw``
on a ``to_dict`` that returns datetimes as they are, a plain ``from_dict``), go
through both formats, files, ``load_object`` and the two serialization errors.

Already covered elsewhere, not repeated here:
- ``as_dict`` equals ``to_dict``: tests/test_serialization.py::
  test_serialize_fw_adds_the_name_and_recursive_serialize_makes_dates_text
- a numpy array through ``recursive_dict``: tests/test_serialization.py::
  test_recursive_dict_flattens_objects_tuples_dates_and_arrays
- ``load_object`` of an ``@explicit_serialize`` class: tests/test_serialization.py::
  test_explicit_serialize_names_any_class_module_and_class
"""

import datetime
import json

import pytest

from launchpad.errors import FWFormatError, FWSerializationError
from launchpad.serialization import (
    FWSerializable,
    explicit_serialize,
    load_object,
    load_object_from_file,
    serialize_fw,
)

UTC = datetime.timezone.utc


class Stamped(FWSerializable):
    """A payload and a date; ``to_dict`` leaves the datetimes to the format, as FireWorks'
    own test helper does, and ``from_dict`` expects datetimes back."""

    _fw_name = "Stamped (FireWorks port)"

    def __init__(self, payload, when):
        if not isinstance(when, datetime.datetime):
            raise TypeError(f"when must be a datetime, got {when!r}")
        self.payload, self.when = payload, when

    def __eq__(self, other):
        return isinstance(other, Stamped) and (self.payload, self.when) == (other.payload, other.when)

    @serialize_fw
    def to_dict(self):
        return {"payload": self.payload, "when": self.when}

    @classmethod
    def from_dict(cls, m_dict):
        return cls(m_dict["payload"], m_dict["when"])


class Exported(FWSerializable):
    """A class whose ``to_dict`` writes its own ``_fw_name``."""

    _fw_name = "Exported (FireWorks port)"

    def __init__(self, payload):
        self.payload = payload

    def __eq__(self, other):
        return isinstance(other, Exported) and self.payload == other.payload

    def to_dict(self):
        return {"payload": self.payload, "_fw_name": self.fw_name}

    @classmethod
    def from_dict(cls, m_dict):
        return cls(m_dict["payload"])


@explicit_serialize
class Explicit(FWSerializable):
    def __init__(self, a):
        self.a = a

    def to_dict(self):
        return {"_fw_name": self.fw_name, "a": self.a}

    @classmethod
    def from_dict(cls, m_dict):
        return cls(m_dict["a"])


NOW = datetime.datetime.now(UTC)
SIMPLE = Stamped("prop1", NOW)
NESTED = Stamped({"p1": 1234, "p2": 5.0, "p3": "Hi!", "p4": datetime.datetime.now(UTC)}, NOW)
UNICODE = Exported({"p1": "\xe4\xf6\xfc", "p2": "abc"})


def test_equality_and_dict_round_trip():
    assert SIMPLE == Stamped("prop1", NOW)
    assert SIMPLE != NESTED
    assert Stamped.from_dict(SIMPLE.to_dict()) == SIMPLE


def test_serialize_fw_names_the_dict():
    assert SIMPLE.to_dict()["_fw_name"] == "Stamped (FireWorks port)"


@pytest.mark.parametrize("obj", [SIMPLE, NESTED, UNICODE], ids=["simple", "nested-dates", "unicode"])
def test_json_is_the_default_format_and_round_trips(obj):
    text = obj.to_format()
    json.loads(text)
    assert type(obj).from_format(text) == obj


@pytest.mark.parametrize("obj", [SIMPLE, NESTED, UNICODE], ids=["simple", "nested-dates", "unicode"])
def test_yaml_round_trips(obj):
    assert type(obj).from_format(obj.to_format("yaml"), "yaml") == obj


def test_unicode_files_hold_what_fireworks_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    UNICODE.to_file("test.json")
    UNICODE.to_file("test.yaml")
    # what FireWorks 2.1.4 writes for the same object
    assert json.loads((tmp_path / "test.json").read_text(encoding="utf-8")) == {
        "payload": {"p1": "\xe4\xf6\xfc", "p2": "abc"},
        "_fw_name": "Exported (FireWorks port)",
    }
    assert (tmp_path / "test.yaml").read_text(encoding="utf-8") == (
        "_fw_name: Exported (FireWorks port)\npayload:\n  p1: \xe4\xf6\xfc\n  p2: abc\n"
    )
    assert Exported.from_file("test.json") == UNICODE
    assert Exported.from_file("test.yaml") == UNICODE


def test_load_object_finds_the_class_by_its_declared_name():
    loaded = load_object({"payload": {"p1": {"p2": 3}}, "_fw_name": "Exported (FireWorks port)"})
    assert loaded == Exported({"p1": {"p2": 3}})
    assert load_object(Explicit(1).to_dict()).a == 1


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_empty_file_is_a_serialization_error_with_fireworks_words(in_tmp):
    (in_tmp / "launchpad.yaml").write_text("")
    message = "Serialized object must be a dict but is <class 'NoneType'>"
    with pytest.raises(FWSerializationError, match=message):
        load_object_from_file(str(in_tmp / "launchpad.yaml"))
    with pytest.raises(FWSerializationError, match=message):
        Explicit.from_file(str(in_tmp / "launchpad.yaml"))


def test_an_unknown_format_is_a_format_error_with_fireworks_words(in_tmp):
    path = str(in_tmp / "launchpad.txt")
    (in_tmp / "launchpad.txt").write_text("")
    with pytest.raises(FWFormatError, match="Unsupported format txt"):
        Explicit.from_file(path)
    with pytest.raises(FWFormatError, match="Unsupported format txt"):
        Explicit(a=1).to_file(path)
    with pytest.raises(FWFormatError, match="Unsupported format txt"):
        Explicit(a=1).to_format("txt")
    with pytest.raises(FWFormatError, match="Unknown file format txt cannot be loaded!"):
        load_object_from_file(path)
