"""Security: credentials stay out of logs, errors and output; a password file readable by
others is warned about; user queries cannot run JavaScript on the server; launch
directories cannot be escaped unless the user allows it explicitly."""

import logging
import os
import stat
import time

import pytest

from launchpad import FiretaskBase, Firework, LaunchPad
from launchpad.config import config_from_dict, load_config, warn_if_readable
from launchpad.errors import InvalidQueryError, StoreUnavailableError
from launchpad.files import dumps
from launchpad.query import parse_query
from launchpad.redact import redact_text, redact_uri
from launchpad.tasks import FileTransferTask, FileWriteTask
from launchpad.worker import FWorker, fworker_from_dict
from rocket.rocket import Rocket

SECRET = "s3cr3t-Pa55"
USER = "alice"
DEAD_PORT = 9  # nothing listens there: every connection fails at once


# -- credentials ---------------------------------------------------------------------
def test_redaction_of_uris_and_known_secrets():
    assert redact_uri(f"mongodb://{USER}:{SECRET}@db.example:27017/fw") == "mongodb://***@db.example:27017/fw"
    assert (
        redact_uri(f"mongodb+srv://{USER}:{SECRET}@c.example/fw?w=1") == "mongodb+srv://***@c.example/fw?w=1"
    )
    text = f"failed: mongodb://{USER}:{SECRET}@h/x and then {SECRET} again"
    assert SECRET not in redact_text(text, [SECRET])


def test_config_never_shows_its_password():
    config = config_from_dict({"host": "db.example", "username": USER, "password": SECRET})
    assert SECRET not in repr(config) and SECRET not in config.describe()
    uri_config = config_from_dict({"host": f"mongodb://{USER}:{SECRET}@db.example/fw", "uri_mode": True})
    assert SECRET not in repr(uri_config) and SECRET not in uri_config.describe()


def _unreachable_configs(tmp_path):
    fast = {"mongoclient_kwargs": {"serverSelectionTimeoutMS": 30, "connectTimeoutMS": 30}}
    yield {
        "host": "127.0.0.1",
        "port": DEAD_PORT,
        "username": USER,
        "password": SECRET,
        "authsource": "admin",
        **fast,
    }
    yield {
        "host": f"mongodb://{USER}:{SECRET}@127.0.0.1:{DEAD_PORT}/fw?authSource=admin",
        "uri_mode": True,
        **fast,
    }


def _write_config(path, data):
    path.write_text(dumps(data, "yaml"))
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def no_waiting(monkeypatch):
    """The store's retries back off with time.sleep: skip the waiting in these tests."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


@pytest.mark.timeout(60)
def test_an_unreachable_server_never_reveals_the_credentials(
    tmp_path, caplog, capsys, no_waiting, isolated_home
):
    from launchpad.cli import main

    caplog.set_level(logging.DEBUG)
    for i, data in enumerate(_unreachable_configs(tmp_path)):
        path = _write_config(tmp_path / f"my_launchpad_{i}.yaml", data)
        with pytest.raises(StoreUnavailableError) as err:
            LaunchPad.from_file(str(path))
        assert SECRET not in str(err.value) and USER not in str(err.value)
        for argv in (
            ["-l", str(path), "get_fws"],
            ["-l", str(path), "--debug", "get_wflows"],
            ["-l", str(path), "-o", "json", "admin", "check"],
        ):
            code = main(argv)
            out, errout = capsys.readouterr()
            assert code == StoreUnavailableError.exit_code, errout
            assert "cannot reach" in errout
            assert SECRET not in out + errout, argv
    assert SECRET not in caplog.text  # pymongo's own debug logs included


@pytest.mark.timeout(60)
def test_rlaunch_never_reveals_the_credentials(tmp_path, capsys, no_waiting, isolated_home):
    from rocket.cli import main

    for i, data in enumerate(_unreachable_configs(tmp_path)):
        path = _write_config(tmp_path / f"my_launchpad_{i}.yaml", data)
        code = main(["-l", str(path), "singleshot"])
        out, err = capsys.readouterr()
        assert code == StoreUnavailableError.exit_code
        assert SECRET not in out + err


def test_lpad_init_writes_the_password_for_its_owner_only(isolated_home, capsys):
    from launchpad.cli import main

    assert main(["init", "--mongodb", "--username", USER, "--password", SECRET]) == 0
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    mode = stat.S_IMODE(os.stat("my_launchpad.yaml").st_mode)
    assert mode == 0o600
    assert load_config("my_launchpad.yaml").password == SECRET


# -- a password file others can read --------------------------------------------------
@pytest.mark.parametrize(
    "mode,warned", [(0o644, True), (0o640, True), (0o604, True), (0o600, False), (0o400, False)]
)
def test_warning_when_a_password_file_is_readable_by_others(tmp_path, capsys, mode, warned):
    path = tmp_path / "my_launchpad.yaml"
    path.write_text(dumps({"host": "db.example", "username": USER, "password": SECRET}, "yaml"))
    os.chmod(path, mode)
    config = load_config(str(path))
    err = capsys.readouterr().err
    assert config.password == SECRET
    if warned:
        assert f"{path} holds a password and is readable by other users" in err
        assert f"chmod 600 {path}" in err
    else:
        assert err == ""
    assert SECRET not in err


def test_no_warning_for_a_file_without_a_password(tmp_path, capsys):
    path = tmp_path / "my_launchpad.yaml"
    path.write_text(dumps({"store": "sqlite", "path": str(tmp_path / "s.sqlite")}, "yaml"))
    os.chmod(path, 0o644)
    load_config(str(path))
    warn_if_readable(str(tmp_path / "missing.yaml"))  # a vanished file is not an error
    assert capsys.readouterr().err == ""


# -- queries cannot run code on the server --------------------------------------------
JS = ["$where", "$function", "$accumulator"]
WRAPPERS = [
    lambda op: {op: "sleep(100000)"},
    lambda op: {"name": {"$not": {op: "1"}}},
    lambda op: {"$and": [{"state": "READY"}, {op: "1"}]},
    lambda op: {"$or": [{"$nor": [{op: "1"}]}]},
    lambda op: {"$expr": {op: {"body": "function() {return true}", "args": [], "lang": "js"}}},
    lambda op: {"launches": {"$elemMatch": {op: "1"}}},
    lambda op: {"spec.x": {"$in": [{op: 1}]}},
]


@pytest.mark.parametrize("op", JS)
@pytest.mark.parametrize("wrap", range(len(WRAPPERS)))
def test_queries_cannot_run_javascript_at_any_depth(op, wrap):
    import json

    with pytest.raises(InvalidQueryError, match="runs code on the server"):
        parse_query(json.dumps(WRAPPERS[wrap](op)))


@pytest.mark.parametrize("op", JS)
def test_the_stores_refuse_javascript_even_from_the_python_api(lp, op):
    """Defense in depth: code that bypasses parse_query still cannot reach the server."""
    lp.add_wf(Firework(Noop()))
    for query in (WRAPPERS[0](op), WRAPPERS[2](op), WRAPPERS[4](op)):
        with pytest.raises(InvalidQueryError):
            lp.get_fws(query)
        with pytest.raises(InvalidQueryError):
            lp.get_fw_ids(query, count_only=True)
        with pytest.raises(InvalidQueryError):
            lp.get_launches(query)


@pytest.mark.parametrize("op", JS)
def test_javascript_in_lpad_queries_and_worker_files_is_refused(sqlite_lp, capsys, op):
    from launchpad.cli import main

    assert main(["get_fws", "-q", '{"%s": "1"}' % op], launchpad=sqlite_lp) == InvalidQueryError.exit_code
    assert "runs code on the server and is not allowed" in capsys.readouterr().err
    with pytest.raises(Exception, match="runs code on the server"):
        fworker_from_dict({"name": "w", "query": {op: "1"}})


# -- launch directories ----------------------------------------------------------------
class Noop(FiretaskBase):
    _fw_name = "Security Noop"

    def run_task(self, fw_spec):
        return None


def _run(lp, root, spec=None, tasks=None, worker=None):
    lp.add_wf(Firework(tasks or [Noop()], spec=spec))
    fw_id = lp.get_fw_ids(sort=[("fw_id", -1)], limit=1)[0]
    rocket = Rocket(lp, worker=worker, launch_root=str(root), ping_interval=0)
    assert rocket.run_once(fw_id=fw_id) == fw_id
    doc = lp.get_fw_dict(fw_id)
    return doc["state"], doc["launches"][-1]


@pytest.fixture
def roots(tmp_path):
    root, outside = tmp_path / "launches", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    return root, outside


ESCAPES = ["../outside/a", "{outside}/b", "link/c", "~/starshell-escape-test", "../launches/../outside/d"]
# A site's opt-in (my_fworker.yaml's confine_launch_dir): fireworks stay under the rocket's folder.
CONFINED = FWorker(name="w", confine_launch_dir=True)


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_confining_worker_keeps_launch_dirs_in_the_rocket_directory(sqlite_lp, roots, escape):
    root, outside = roots
    state, launch = _run(sqlite_lp, root, {"_launch_dir": escape.format(outside=outside)}, worker=CONFINED)
    assert state == "FIZZLED"
    assert "outside the rocket's directory" in launch["exception"]["message"]
    assert list(outside.iterdir()) == [] and not os.path.exists(os.path.expanduser(escape))


@pytest.mark.parametrize("flag", ["true", "yes", "1", True, 1])
def test_a_workflow_cannot_lift_the_sites_confinement(sqlite_lp, roots, flag):
    root, outside = roots
    state, launch = _run(
        sqlite_lp,
        root,
        {"_launch_dir": str(outside / "x"), "_allow_outside_launch_dir": flag},
        worker=CONFINED,
    )
    assert state == "FIZZLED" and not (outside / "x").exists()


def test_launch_dir_outside_is_honoured_as_in_fireworks_unless_the_worker_confines(sqlite_lp, roots):
    root, outside = roots
    assert _run(sqlite_lp, root, {"_launch_dir": "runs/one"}, worker=CONFINED)[0] == "COMPLETED"
    assert (root / "runs" / "one").is_dir()
    state, launch = _run(sqlite_lp, root, {"_launch_dir": str(outside / "scratch")})
    assert state == "COMPLETED" and launch["launch_dir"] == str(outside / "scratch")
    assert (outside / "scratch" / "FW.json").is_file()
    lifted = FWorker(name="w", confine_launch_dir=True, allow_outside_launch_dir=True)
    assert _run(sqlite_lp, root, {"_launch_dir": str(outside / "by_worker")}, worker=lifted)[0] == "COMPLETED"
    assert (outside / "by_worker").is_dir()


TRANSFERS = [
    lambda out: FileTransferTask(mode="copy", files=[{"src": "in.txt", "dest": str(out / "copied")}]),
    lambda out: FileTransferTask(mode="copy", files=["in.txt"], dest="../../outside"),
    lambda out: FileTransferTask(mode="move", files=[{"src": "in.txt", "dest": "link/moved"}]),
    lambda out: FileTransferTask(mode="symlink", files=[{"src": "in.txt", "dest": str(out / "l")}]),
    lambda out: FileWriteTask(files_to_write=[{"filename": "../../outside/w", "contents": "x"}]),
    lambda out: FileWriteTask(files_to_write=[{"filename": "w", "contents": "x"}], dest=str(out)),
]


@pytest.mark.parametrize("transfer", range(len(TRANSFERS)))
def test_file_tasks_of_a_confining_worker_cannot_write_outside_the_launch_dir(sqlite_lp, roots, transfer):
    root, outside = roots
    prepare = FileWriteTask(
        files_to_write=[
            {"filename": "in.txt", "contents": "data"},
            {"filename": "placeholder", "contents": ""},
        ]
    )
    link = FileTransferTask(mode="symlink", files=[{"src": str(outside), "dest": "link"}])
    tasks = [prepare, link, TRANSFERS[transfer](outside)]
    state, launch = _run(
        sqlite_lp, root, spec={"_allow_outside_launch_dir": True}, tasks=tasks, worker=CONFINED
    )
    assert state == "FIZZLED", launch
    assert "outside the launch directory" in launch["exception"]["message"]
    assert list(outside.iterdir()) == []


def test_file_tasks_write_where_their_author_says_as_in_fireworks(sqlite_lp, roots):
    root, outside = roots
    prepare = FileWriteTask(files_to_write=[{"filename": "in.txt", "contents": "data"}])
    state, launch = _run(sqlite_lp, root, tasks=[prepare, TRANSFERS[0](outside)])
    assert state == "COMPLETED" and (outside / "copied").read_text() == "data"


def test_a_workflow_may_still_confine_its_own_file_tasks(sqlite_lp, roots):
    root, outside = roots
    prepare = FileWriteTask(files_to_write=[{"filename": "in.txt", "contents": "data"}])
    spec = {"_allow_outside_launch_dir": False}
    state, launch = _run(sqlite_lp, root, spec=spec, tasks=[prepare, TRANSFERS[0](outside)])
    assert state == "FIZZLED" and list(outside.iterdir()) == []


@pytest.fixture
def lp(store):
    return LaunchPad(store)
