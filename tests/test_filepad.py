"""The FilePad on every store (FireWorks' API and return values), its streaming of big
files, its tasks, and a file moved from one firework to its child by real rlaunch processes."""

import json
import os
import tracemalloc

import pytest
from user_commands import ROOT, new_user

from launchpad.errors import ConfigError, InvalidArgumentError, TaskError
from launchpad.filepad import FilePad
from launchpad.firetask import task_class
from launchpad.tasks.filepad import (
    AddFilesTask,
    DeleteFilesTask,
    GetFilesByQueryTask,
    GetFilesTask,
)

MB = 1 << 20


@pytest.fixture
def fp(store):
    return FilePad(store=store)


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "CHGCAR").write_text("Fe3O4 charge density\n" * 200)
    return tmp_path


def test_add_and_get_with_fireworks_fields(fp, here):
    gfs_id, identifier = fp.add_file("CHGCAR", identifier="Fe3O4", metadata={"author": "KM"})
    assert identifier == "Fe3O4" and isinstance(gfs_id, str) and len(gfs_id) == 24
    contents, doc = fp.get_file("Fe3O4")
    assert contents == (here / "CHGCAR").read_bytes()
    assert doc == {
        "identifier": "Fe3O4",
        "gfs_id": gfs_id,
        "metadata": {"author": "KM"},
        "original_file_name": "CHGCAR",
        "compressed": True,
        "original_file_path": str(here / "CHGCAR"),
    }
    assert fp.get_file_by_id(gfs_id) == (contents, doc)
    assert fp.get_file("nothing") == (None, None)
    assert fp.get_file_by_id("0" * 24) == (None, None)


def test_an_identifier_is_added_once_and_none_means_the_gfs_id(fp, here, caplog):
    first = fp.add_file("CHGCAR", identifier="x")
    (here / "other").write_text("other")
    assert fp.add_file("other", identifier="x") == first
    assert "already in the FilePad" in caplog.text
    assert fp.get_file("x")[1]["original_file_name"] == "CHGCAR"
    gfs_id, identifier = fp.add_file("other", compress=False)
    assert identifier == gfs_id
    assert fp.get_file(identifier)[0] == b"other"  # FireWorks stores null here and cannot find it
    assert fp.count() == 2 and fp.count({"identifier": "x"}) == 1


def test_update_replaces_contents_and_keeps_the_rest(fp, here):
    gfs_id, _ = fp.add_file("CHGCAR", identifier="u", metadata={"v": 1})
    (here / "new").write_bytes(b"\x00new contents\xff")
    old, new = fp.update_file("u", "new", compress=False)
    assert old == gfs_id and new != gfs_id
    contents, doc = fp.get_file("u")
    assert contents == b"\x00new contents\xff"
    assert doc["gfs_id"] == new and doc["compressed"] is False and doc["metadata"] == {"v": 1}
    assert fp.get_file_by_id(old) == (None, None)
    again = fp.update_file_by_id(new, "CHGCAR")
    assert again[0] == new and fp.get_file_by_id(again[1])[0] == (here / "CHGCAR").read_bytes()
    assert fp.update_file("missing", "new") == (None, None)


def test_queries_sort_and_deletes(fp, here):
    for n in (3, 1, 2):
        (here / f"f{n}").write_text(str(n))
        fp.add_file(f"f{n}", identifier=f"id{n}", metadata={"group": "a", "n": n})
    fp.add_contents(b"raw", identifier="raw", metadata={"group": "b"})
    found = fp.get_file_by_query({"metadata.group": "a"}, sort_key="metadata.n", sort_direction=1)
    assert [c for c, _ in found] == [b"1", b"2", b"3"]
    assert [d["identifier"] for d in fp.find({"metadata.n": {"$gte": 2}}, "metadata.n")] == ["id3", "id2"]
    assert [d["identifier"] for d in fp.find()] == ["id3", "id1", "id2", "raw"]  # as added
    fp.delete_file("id1")
    fp.delete_file("id1")  # missing: a warning, as in FireWorks
    fp.delete_file_by_id(fp.get_file("id2")[1]["gfs_id"])
    assert fp.count({"metadata.group": "a"}) == 1
    fp.delete_file_by_query({"metadata.group": "a"})
    assert [d["identifier"] for d in fp.find()] == ["raw"]
    fp.reset()
    assert fp.count() == 0


def test_a_file_that_cannot_be_read_is_refused_clearly(fp, here):
    with pytest.raises(InvalidArgumentError, match="no such file"):
        fp.add_file("absent.txt")
    assert fp.count() == 0


@pytest.mark.parametrize("compress", [True, False])
def test_big_files_stream_through_in_blocks(fp, here, compress):
    """40 MB in and out while Python's own allocations stay far below it (mongomock keeps the
    stored copy in memory: what is measured is the peak above what is held afterwards)."""
    size = 40 * MB
    with open("big.bin", "wb") as f:
        f.writelines(os.urandom(MB) for _ in range(size // MB))
    tracemalloc.start()
    try:
        fp.add_file("big.bin", identifier="big", compress=compress)
        held, peak = tracemalloc.get_traced_memory()
        assert peak - held < size / 4
        tracemalloc.reset_peak()
        doc = fp.save_file("big", "copy.bin")
        held, peak = tracemalloc.get_traced_memory()
        assert peak - held < size / 4
    finally:
        tracemalloc.stop()
    assert doc["identifier"] == "big" and os.path.getsize("copy.bin") == size
    with open("big.bin", "rb") as a, open("copy.bin", "rb") as b:
        while True:
            block = a.read(MB)
            assert block == b.read(MB)
            if not block:
                break


def test_a_failed_upload_leaves_nothing(fp, here, monkeypatch):
    from launchpad import filepad as module

    original = module._read_blocks

    def broken(path, text_mode=False):
        yield b"x" * MB
        raise OSError("disk went away")

    monkeypatch.setattr(module, "_read_blocks", broken)
    with pytest.raises(OSError, match="disk went away"):
        fp.add_file("CHGCAR", identifier="half")
    assert fp.get_file("half") == (None, None) and fp.count() == 0
    monkeypatch.setattr(module, "_read_blocks", original)
    assert fp.add_file("CHGCAR", identifier="half")[1] == "half"  # the identifier is free again


def test_the_embedded_store_takes_writes_while_a_file_streams_in(tmp_path, monkeypatch):
    """A rocket's claim must not wait for a big upload: the store's write lock is free
    whenever the upload reads or compresses its file."""
    from launchpad import filepad as module
    from launchpad.stores import SQLiteStore

    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("x")
    fp = FilePad(store=SQLiteStore(tmp_path / "lp.sqlite"))
    other = SQLiteStore(tmp_path / "lp.sqlite", busy_timeout=0.05, lock_patience=0.1)
    ids = []

    def slow_file(path, text_mode=False):
        for _ in range(6):
            yield os.urandom(MB)
            ids.append(other.next_ids("fw"))  # another process's write, mid-upload

    monkeypatch.setattr(module, "_read_blocks", slow_file)
    fp.add_file("f", identifier="big", compress=False)
    assert ids == [1, 2, 3, 4, 5, 6]
    assert len(fp.get_file("big")[0]) == 6 * MB


def test_an_identifier_being_added_elsewhere_is_refused_not_faked(tmp_path, monkeypatch):
    from launchpad import filepad as module
    from launchpad.stores import SQLiteStore

    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("x")
    path = tmp_path / "lp.sqlite"
    refused = []

    def racing_file(path_, text_mode=False):
        yield b"first"
        with pytest.raises(InvalidArgumentError, match="being added by another process") as exc:
            FilePad(store=SQLiteStore(path)).add_file("f", identifier="same")
        refused.append(exc)

    monkeypatch.setattr(module, "_read_blocks", racing_file)
    FilePad(store=SQLiteStore(path)).add_file("f", identifier="same", compress=False)
    assert refused and FilePad(store=SQLiteStore(path)).get_file("same")[0] == b"first"


# ---- finding the store ------------------------------------------------------------


def test_auto_load_uses_the_launchpad_store(tmp_path, monkeypatch):
    monkeypatch.setenv("STARSHELL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STARSHELL_LAUNCHPAD", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("data")
    assert FilePad.auto_load().describe() == f"sqlite:{tmp_path / 'home' / 'launchpad.sqlite'}"
    (tmp_path / "my_launchpad.yaml").write_text("store: sqlite\npath: elsewhere.sqlite\n")
    fp = FilePad.auto_load()
    assert fp.describe() == f"sqlite:{tmp_path / 'elsewhere.sqlite'}"
    fp.add_file("f", identifier="f")
    assert FilePad.from_db_file(str(tmp_path / "my_launchpad.yaml")).get_file("f")[0] == b"data"


def test_fireworks_db_file_keys(tmp_path, monkeypatch):
    db = tmp_path / "db.json"
    db.write_text(
        json.dumps(
            {
                "store": "mongomock",
                "name": "pad",
                "filepad": "files",
                "filepad_gridfs": "files_gfs",
                "admin_user": "a",
                "admin_password": "p",
                "readonly_user": "r",
            }
        )
    )
    fp = FilePad.from_db_file(str(db))
    assert fp.filepad_coll_name == "files" and fp.gridfs_coll_name == "files_gfs"
    assert fp.store.db.name == "pad"
    gateway = tmp_path / "gw.yaml"
    gateway.write_text("gateway: http://node:1\ntoken_file: t\n")
    with pytest.raises(ConfigError, match="FilePad needs the store itself"):
        FilePad.from_db_file(str(gateway))


def test_mongodb_docs_are_fireworks_own(tmp_path, monkeypatch):
    """The collections and fields FireWorks' FilePad reads: a pad both can share."""
    from launchpad.stores.mongo import MongoStore

    store = MongoStore.connect(mongomock=True, name="shared")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("shared data")
    gfs_id, _ = FilePad(store=store).add_file("f", identifier="f")
    raw = store.db["filepad"].find_one({"identifier": "f"})
    assert raw["gfs_id"] == gfs_id and raw["compressed"] is True
    assert store.db["filepad_gfs.files"].count_documents({}) == 1


def test_a_pad_fireworks_wrote_reads_as_it_is():
    """tests/data/fireworks_filepad.json: FireWorks 2.1.4's FilePad (add_file of notes.txt,
    compressed as "notes" and plain as "plain") in its embedded store's file."""
    from bson import json_util

    from launchpad.stores.mongo import MongoStore

    store = MongoStore.connect(mongomock=True, name="fireworks")
    with open(os.path.join(ROOT, "tests", "data", "fireworks_filepad.json")) as f:
        saved = json_util.loads(f.read())["fireworks"]
    for name, collection in saved.items():
        store.db[name].insert_many([doc for _, doc in collection["documents"]])
    fp = FilePad(store=store)
    for identifier in ("notes", "plain"):
        contents, doc = fp.get_file(identifier)
        assert contents == b"line one\nline two\n"
        assert doc["original_file_name"] == "notes.txt"
    assert fp.get_file("notes")[1]["metadata"] == {"by": "FireWorks 2.1.4"}
    assert fp.count() == 2


# ---- tasks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["AddFilesTask", "GetFilesTask", "GetFilesByQueryTask", "DeleteFilesTask"])
def test_fireworks_task_names_resolve(name):
    cls = task_class(name)
    assert task_class("{{fireworks.user_objects.firetasks.filepad_tasks." + name + "}}") is cls


@pytest.fixture
def pad_home(tmp_path, monkeypatch, store):
    """A launch directory whose tasks find the FilePad on the test's store (each backend)."""
    from launchpad.tasks import filepad as tasks_module

    monkeypatch.setattr(tasks_module, "get_fpad", lambda filepad_file=None: FilePad(store=store))
    monkeypatch.delenv("STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR", raising=False)
    work = tmp_path / "launch"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in ("write.yaml", "delete.yaml"):
        (work / name).write_text(f"{name}: contents\n")
    return work


def test_add_get_delete_tasks(pad_home, store):
    AddFilesTask(paths=["write.yaml", "delete.yaml"], identifiers=["write", "delete"]).run_task({})
    GetFilesTask(identifiers=["write"], new_file_names=["write_2.yaml"]).run_task({})
    assert (pad_home / "write_2.yaml").read_text() == "write.yaml: contents\n"
    DeleteFilesTask(identifiers=["write", "delete", "never"]).run_task({})
    assert FilePad(store=store).count() == 0
    with pytest.raises(TaskError, match="no file 'write' in the FilePad"):
        GetFilesTask(identifiers=["write"]).run_task({})


def test_add_files_by_pattern_named_by_path(pad_home, store):
    AddFilesTask(paths="*.yaml", directory=str(pad_home)).run_task({})
    fp = FilePad(store=store)
    assert fp.get_file(str(pad_home / "write.yaml"))[0] == b"write.yaml: contents\n"
    with pytest.raises(TaskError, match="one identifier per path"):
        AddFilesTask(paths=["write.yaml"], identifiers=["a", "b"]).run_task({})


def test_get_files_stay_in_the_launch_directory_when_confined(pad_home):
    AddFilesTask(paths=["write.yaml"], identifiers=["w"]).run_task({})
    confined = {"_allow_outside_launch_dir": False}  # what a confining worker's rocket gives
    with pytest.raises(TaskError, match="outside the launch directory"):
        GetFilesTask(identifiers=["w"], dest_dir=str(pad_home.parent)).run_task(confined)
    GetFilesTask(identifiers=["w"], dest_dir=str(pad_home.parent)).run_task(
        {"_allow_outside_launch_dir": True}
    )
    assert (pad_home.parent / "write.yaml").exists()


def test_get_files_run_directly_writes_where_dest_dir_says_as_in_fireworks(pad_home, tmp_path):
    AddFilesTask(paths=["write.yaml"], identifiers=["w"]).run_task({})
    (tmp_path / "elsewhere").mkdir()
    GetFilesTask(identifiers=["w"], dest_dir=str(tmp_path / "elsewhere")).run_task({})
    assert (tmp_path / "elsewhere" / "write.yaml").read_text() == "write.yaml: contents\n"


def _add_degenerate(pad_home):
    for n, identifier in ((10, "first"), (20, "second")):
        (pad_home / "same.txt").write_text(f"contents {n}")
        AddFilesTask(
            paths=["same.txt"], identifiers=[identifier], metadata={"key": "value", "sort_key": n}
        ).run_task({})
    os.remove(pad_home / "same.txt")


def test_get_files_by_query(pad_home):
    _add_degenerate(pad_home)
    with pytest.raises(TaskError, match="used a second time by result 1/2"):
        GetFilesByQueryTask(query={"metadata->key": "value"}).run_task({})
    GetFilesByQueryTask(
        query={"metadata->key": "value"},
        fizzle_degenerate_file_name=False,
        sort_key="metadata.sort_key",
        sort_direction=1,
    ).run_task({})
    assert (pad_home / "same.txt").read_text() == "contents 20"  # the last one written wins
    GetFilesByQueryTask(
        query={"metadata->key": "value"},
        sort_key="metadata.sort_key",
        limit=1,
        new_file_names=["top.txt"],
        meta_file=True,
    ).run_task({})
    assert (pad_home / "top.txt").read_text() == "contents 20"  # descending by default
    assert (pad_home / "top.txt.meta.yaml").read_text() == "key: value\nsort_key: 20\n"
    with pytest.raises(TaskError, match="Query yielded empty result"):
        GetFilesByQueryTask(query={"metadata->key": "other"}).run_task({})
    GetFilesByQueryTask(query={"metadata->key": "other"}, fizzle_empty_result=False).run_task({})


# ---- end to end ----------------------------------------------------------------------

PAD_WORKFLOW = os.path.join(ROOT, "examples", "dataflow", "filepad_handoff.yaml")


def test_a_file_moves_from_parent_to_child_through_the_pad(tmp_path):
    user = new_user(tmp_path)
    assert user.run("lpad", "add", PAD_WORKFLOW).returncode == 0
    ran = user.run("rlaunch", "-s", "rapidfire", "--sleep", "0")
    assert ran.returncode == 0, ran.stderr
    shown = json.loads(user.run("lpad", "-o", "json", "get_fws", "-d", "all").stdout)
    for fw in shown:
        assert fw["state"] == "COMPLETED", fw["launches"][-1].get("exception")
    consumer = next(fw for fw in shown if fw["name"] == "consume")
    launch_dir = consumer["launches"][-1]["launch_dir"]
    assert os.path.getsize(os.path.join(launch_dir, "input.bin")) == 3000000
    (tmp_path / "lp.yaml").write_text(f"store: sqlite\npath: {user.home / 'launchpad.sqlite'}\n")
    fp = FilePad.from_db_file(str(tmp_path / "lp.yaml"))
    assert [d["identifier"] for d in fp.find()] == ["run-42"]
    assert fp.get_file("run-42")[1]["metadata"] == {"project": "demo"}


def test_tasks_use_the_store_of_the_launchpad_file_rlaunch_found(tmp_path):
    """Tasks run in launch directories, where ./my_launchpad.yaml is not: rlaunch points
    them at its own file (FireWorks finds it once, at start-up, in the same place)."""
    user = new_user(tmp_path)
    (user.work / "my_launchpad.yaml").write_text("store: sqlite\npath: project.sqlite\n")
    assert user.run("lpad", "add", PAD_WORKFLOW).returncode == 0
    ran = user.run("rlaunch", "-s", "rapidfire", "--sleep", "0")
    assert ran.returncode == 0, ran.stderr
    project = FilePad.from_db_file(str(user.work / "my_launchpad.yaml"))
    assert [d["identifier"] for d in project.find()] == ["run-42"]
    assert not (user.home / "launchpad.sqlite").exists()  # nothing went to the default store
