"""FireWorks' serialization API (launchpad.serialization): formats, files, dates, load_object.

The behaviours are those FireWorks' utilities/tests/test_fw_serializers.py
checks, written again for starshell, plus the model objects' own round trips.
"""

import datetime
import json
import pickle

import pytest

from launchpad import FiretaskBase, Firework, FWAction, FWorker, Launch, Workflow
from launchpad.errors import FWFormatError, FWSerializationError, UnknownTaskError
from launchpad.serialization import (
    DATETIME_HANDLER,
    FWSerializable,
    explicit_serialize,
    load_object,
    load_object_from_file,
    reconstitute_dates,
    recursive_deserialize,
    recursive_dict,
    recursive_serialize,
    serialize_fw,
)
from launchpad.tasks import PyTask, ScriptTask

UTC = datetime.timezone.utc


class Record(FWSerializable):
    """A user class in FireWorks' style: a declared name, dates and nesting."""

    _fw_name = "Record (serialization test)"

    def __init__(self, data, when=None):
        self.data, self.when = data, when

    @serialize_fw
    @recursive_serialize
    def to_dict(self):
        return {"data": self.data, "when": self.when}

    @classmethod
    @recursive_deserialize
    def from_dict(cls, m_dict):
        return cls(m_dict["data"], m_dict.get("when"))

    def __eq__(self, other):
        return (self.data, self.when) == (getattr(other, "data", None), getattr(other, "when", None))


@explicit_serialize
class Point(FWSerializable):
    def __init__(self, x):
        self.x = x

    def to_dict(self):
        return {"_fw_name": self.fw_name, "x": self.x}

    @classmethod
    def from_dict(cls, m_dict):
        return cls(m_dict["x"])

    def __eq__(self, other):
        return isinstance(other, Point) and other.x == self.x


@explicit_serialize
class Double(FiretaskBase):
    required_params = ("n",)

    def run_task(self, fw_spec):
        return FWAction(stored_data={"n": 2 * self["n"]})


NOW = datetime.datetime(2026, 11, 29, 12, 30, 15, 123456, tzinfo=UTC)


# ---- the FWSerializable contract ----------------------------------------------------


def test_serialize_fw_adds_the_name_and_recursive_serialize_makes_dates_text():
    d = Record({"a": 1}, NOW).to_dict()
    assert d == {"data": {"a": 1}, "when": NOW.isoformat(), "_fw_name": "Record (serialization test)"}
    assert Record({"a": 1}).as_dict() == Record({"a": 1}).to_dict()


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_formats_round_trip_nested_values_unicode_and_dates(fmt):
    record = Record({"p1": 1234, "p2": 5.0, "p3": "äöü", "p4": [1, {"x": None}]}, NOW)
    text = record.to_format(fmt)
    assert "äöü" in text or "\\u00e4" in text
    assert Record.from_format(text, fmt) == record  # the date comes back a datetime


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_files_by_extension(tmp_path, suffix):
    path = str(tmp_path / f"record{suffix}")
    record = Record({"p1": "äöü"}, NOW)
    record.to_file(path)
    assert Record.from_file(path) == record
    assert load_object_from_file(path) == record


def test_json_keyword_arguments_reach_json_dumps():
    assert Record({"a": 1}).to_format("json", indent=3).startswith("{\n   ")


def test_unsupported_formats_are_format_errors(tmp_path):
    path = tmp_path / "launchpad.txt"
    path.write_text("")
    with pytest.raises(FWFormatError, match="Unsupported format txt"):
        Point(1).to_file(str(path))
    with pytest.raises(FWFormatError, match="Unsupported format txt"):
        Point.from_file(str(path))
    with pytest.raises(FWFormatError):
        Point(1).to_format("txt")
    with pytest.raises(FWFormatError):
        load_object_from_file(str(path))
    assert issubclass(FWFormatError, ValueError)


def test_an_empty_file_is_a_serialization_error(tmp_path):
    path = tmp_path / "launchpad.yaml"
    path.write_text("")
    with pytest.raises(FWSerializationError, match="must be a mapping"):
        load_object_from_file(str(path))
    with pytest.raises(FWSerializationError, match="must be a mapping"):
        Point.from_file(str(path))


# ---- load_object ----------------------------------------------------------------------


def test_load_object_by_declared_name():
    assert load_object({"_fw_name": "Record (serialization test)", "data": {"p2": 3}}) == Record({"p2": 3})


def test_explicit_serialize_names_any_class_module_and_class():
    assert Point(1).to_dict() == {"_fw_name": "{{test_serialization.Point}}", "x": 1}
    assert load_object(Point(1).to_dict()) == Point(1)
    assert Double.__dict__["_fw_name"] == "{{test_serialization.Double}}"
    task = load_object({"_fw_name": "{{test_serialization.Double}}", "n": 4})
    assert isinstance(task, Double) and task.run_task({}).stored_data == {"n": 8}


def test_load_object_of_a_task_uses_the_task_registry():
    assert load_object({"_fw_name": "ScriptTask", "script": "echo"}) == ScriptTask(script="echo")
    with pytest.raises(UnknownTaskError):
        load_object({"_fw_name": "NoSuchSerializable"})
    with pytest.raises(FWSerializationError):
        load_object({"_fw_name": "{{no_such_module_anywhere.Thing}}"})
    with pytest.raises(FWSerializationError):
        load_object({"x": 1})


# ---- dates -------------------------------------------------------------------------


def test_reconstitute_dates_as_fireworks():
    data = {
        "a": "2026-11-29T12:30:15.123456",
        "b": ["2026-11-29T12:30:15"],
        "c": "2000-02-01",
        "d": "v1.2.3",
        "e": "Tuesday",
        "f": 3,
    }
    out = reconstitute_dates(data)
    assert out["a"] == datetime.datetime(2026, 11, 29, 12, 30, 15, 123456)
    assert out["b"] == [datetime.datetime(2026, 11, 29, 12, 30, 15)]
    assert out["c"] == "2000-02-01" and out["d"] == "v1.2.3" and out["e"] == "Tuesday"
    assert json.dumps({"t": NOW}, default=DATETIME_HANDLER) == json.dumps({"t": NOW.isoformat()})


def test_recursive_dict_flattens_objects_tuples_dates_and_arrays():
    np = pytest.importorskip("numpy")
    assert recursive_dict(np.array([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert recursive_dict({"t": (1, NOW), "task": ScriptTask(script="x")}) == {
        "t": [1, NOW.isoformat()],
        "task": {"_fw_name": "ScriptTask", "script": "x"},
    }


def test_firework_dates_round_trip_as_datetimes(tmp_path):
    fw = Firework(ScriptTask(script="echo"), name="dated", fw_id=3, created_on=NOW)
    assert isinstance(fw.created_on, datetime.datetime) and fw.updated_on == NOW
    path = str(tmp_path / "fw.json")
    fw.to_file(path)
    again = Firework.from_file(path)
    assert again == fw and again.created_on == NOW
    older = Firework.from_dict({**fw.to_dict(), "created_on": "2013-03-22T06:43:43.879368"})
    assert older.created_on == datetime.datetime(2013, 3, 22, 6, 43, 43, 879368, tzinfo=UTC)


def test_spec_text_that_looks_like_a_date_stays_text(tmp_path):
    fw = Firework(ScriptTask(script="echo"), spec={"when": "2013-03-22T06:43:43.879368"}, fw_id=1)
    path = str(tmp_path / "fw.yaml")
    fw.to_file(path)
    assert Firework.from_file(path).spec["when"] == "2013-03-22T06:43:43.879368"


# ---- the model objects ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_workflow_round_trips_through_formats_and_files(tmp_path, fmt):
    a = Firework(PyTask(func="print", args=[1]), fw_id=1, name="a")
    b = Firework(ScriptTask(script="echo b"), fw_id=2, name="b", parents=a)
    wf = Workflow([a, b], name="pair", metadata={"k": [1, 2]})
    assert Workflow.from_format(wf.to_format(fmt), fmt) == wf
    path = str(tmp_path / f"wf.{fmt}")
    wf.to_file(path)
    again = Workflow.from_file(path)
    assert again == wf and again.links == {1: [2], 2: []}


def test_fwaction_launch_fworker_and_task_round_trip():
    action = FWAction(
        stored_data={"x": 1}, update_spec={"y": 2}, additions=[Firework(ScriptTask(script="echo"), fw_id=-5)]
    )
    assert FWAction.from_format(action.to_format()) == action
    worker = FWorker(name="w", category=["a", "b"], query={"spec.k": 1}, env={"e": 1})
    assert FWorker.from_format(worker.to_format()) == worker
    assert json.loads(worker.to_format())["query"] == '{"spec.k": 1}'  # text, as FireWorks writes it
    launch = Launch(
        "COMPLETED",
        "/tmp/x",
        fworker=worker,
        host="n1",
        action=action,
        launch_id=7,
        fw_id=3,
        state_history=[
            {"state": "RUNNING", "created_on": NOW},
            {"state": "COMPLETED", "created_on": NOW + datetime.timedelta(seconds=90)},
        ],
    )
    again = Launch.from_format(launch.to_format("yaml"), "yaml")
    assert again.fworker == worker and again.action == action and again.runtime_secs == 90
    assert again.time_start == NOW and again.to_dict() == launch.to_dict()
    task = Double(n=2)
    assert Double.from_format(task.to_format()) == task


def test_tasks_pickle_as_in_fireworks():
    task = Double(n=3)
    assert pickle.loads(pickle.dumps(task)) == task
    fw = Firework(task, fw_id=1, created_on=NOW)
    assert pickle.loads(pickle.dumps(fw)) == fw


def test_package_exports_the_serialization_names():
    import launchpad

    for name in (
        "FWSerializable",
        "load_object",
        "load_object_from_file",
        "recursive_serialize",
        "recursive_deserialize",
        "reconstitute_dates",
        "serialize_fw",
        "FWFormatError",
        "FWSerializationError",
        "FWorker",
        "explicit_serialize",
    ):
        assert getattr(launchpad, name) is not None


# A firework as FireWorks 2.1.4 writes it (Firework.to_file with one Launch):
# aware dates with an offset, the worker's query as JSON text, append_wfs.
FIREWORKS_FW = {
    "spec": {
        "_tasks": [{"script": ["echo hi"], "use_shell": True, "_fw_name": "ScriptTask"}],
        "when": "2013-03-22T06:43:43.879368",
    },
    "fw_id": 1,
    "created_on": "2026-11-29T22:41:32.972675+00:00",
    "updated_on": "2026-11-29T22:41:32.972680+00:00",
    "state": "COMPLETED",
    "name": "Unnamed FW",
    "launches": [
        {
            "fworker": {"name": "w", "category": "c", "query": '{"a": 1}', "env": {}},
            "fw_id": 1,
            "launch_dir": "/tmp/x",
            "host": "h",
            "ip": "1.2.3.4",
            "trackers": [{"filename": "out.txt", "nlines": 5, "allow_zipped": False}],
            "action": {
                "stored_data": {"x": 1},
                "exit": False,
                "update_spec": {},
                "mod_spec": [],
                "additions": [],
                "detours": [],
                "append_wfs": [],
                "defuse_children": False,
                "defuse_workflow": False,
                "propagate": False,
            },
            "state": "COMPLETED",
            "launch_id": 3,
            "state_history": [
                {"state": "RUNNING", "created_on": "2026-11-29T22:40:00.000000+00:00"},
                {"state": "COMPLETED", "created_on": "2026-11-29T22:41:30.500000+00:00"},
            ],
        }
    ],
}


def test_a_firework_fireworks_wrote_loads_with_its_launch(tmp_path):
    path = tmp_path / "fw.json"
    path.write_text(json.dumps(FIREWORKS_FW))
    fw = Firework.from_file(str(path))
    (launch,) = fw.launches
    assert fw.state == "COMPLETED" and fw.created_on.tzinfo is not None
    assert fw.spec["when"] == "2013-03-22T06:43:43.879368"
    assert launch.fworker == FWorker(name="w", category="c", query={"a": 1})
    assert launch.action.stored_data == {"x": 1} and launch.runtime_secs == 90.5
    assert launch.trackers[0]["filename"] == "out.txt"
    wf = Workflow.from_firework(fw)
    assert wf.state == "COMPLETED"
