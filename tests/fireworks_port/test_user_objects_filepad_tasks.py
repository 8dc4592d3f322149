"""Port of FireWorks 2.1.x fireworks/user_objects/firetasks/tests/test_filepad_tasks.py.

The tasks find the pad as in FireWorks (``FilePad.auto_load()``); here that is
pointed at the test's store, so every scenario runs on both stores.

Covered already by tests/test_filepad.py, not repeated:
- AddFilesTask then GetFilesTask with new_file_names, DeleteFilesTask of
  identifiers that are and are not there: test_add_get_delete_tasks
- AddFilesTask of a glob pattern in a directory, named by path:
  test_add_files_by_pattern_named_by_path
"""

import pytest
from ruamel.yaml import YAML

from launchpad import FilePad
from launchpad.tasks.filepad import AddFilesTask, GetFilesByQueryTask

CONTENTS = ["Some file with some content", "Some other file with some other content"]


@pytest.fixture
def fp(lp, tmp_path, monkeypatch):
    from launchpad.tasks import filepad as tasks_module

    pad = FilePad(store=lp.store)
    monkeypatch.setattr(tasks_module, "get_fpad", lambda filepad_file=None: FilePad(store=lp.store))
    monkeypatch.chdir(tmp_path)
    return pad


def add_one(path, identifier, text, **metadata):
    with open(path, "w") as handle:
        handle.write(text)
    AddFilesTask(paths=[path], identifiers=[identifier], metadata={"key": "value", **metadata}).run_task({})


def test_get_by_query_with_a_new_file_name(fp, tmp_path):
    add_one("original_test_file.txt", "some_identifier", "Some file with some content")
    (tmp_path / "original_test_file.txt").unlink()
    GetFilesByQueryTask(
        query={"metadata->key": "value"}, dest_dir=str(tmp_path), new_file_names=["queried_test_file.txt"]
    ).run_task({})
    contents, _ = fp.get_file("some_identifier")
    assert contents == (tmp_path / "queried_test_file.txt").read_bytes()


def test_get_by_query_writes_the_metadata_beside_the_file(fp, tmp_path):
    add_one("original_test_file.txt", "test_identifier", "Some file with some content")
    GetFilesByQueryTask(
        query={"metadata->key": "value"},
        meta_file=True,
        meta_file_suffix=".meta.yaml",
        dest_dir=str(tmp_path),
        new_file_names=["queried_test_file.txt"],
    ).run_task({})
    with open(tmp_path / "queried_test_file.txt.meta.yaml") as handle:
        assert YAML(typ="safe").load(handle)["key"] == "value"


def test_an_empty_result_is_ignored_or_a_value_error(fp):
    GetFilesByQueryTask(query={"metadata->key": "value"}, fizzle_empty_result=False).run_task({})
    with pytest.raises(ValueError, match="Query yielded empty result"):
        GetFilesByQueryTask(query={"metadata->key": "value"}, fizzle_empty_result=True).run_task({})


def test_a_file_name_used_twice_is_ignored_or_a_value_error(fp, tmp_path):
    add_one("degenerate_file.txt", "some_identifier", CONTENTS[0])
    add_one("degenerate_file.txt", "some_other_identifier", CONTENTS[-1])
    (tmp_path / "degenerate_file.txt").unlink()
    GetFilesByQueryTask(query={"metadata->key": "value"}, fizzle_degenerate_file_name=False).run_task({})
    with pytest.raises(ValueError, match="result"):
        GetFilesByQueryTask(query={"metadata->key": "value"}, fizzle_degenerate_file_name=True).run_task({})


def test_ascending_by_a_key_the_docs_lack_keeps_the_order_added(fp, tmp_path):
    add_one("degenerate_file.txt", "some_identifier", CONTENTS[0], sort_key=0)
    add_one("degenerate_file.txt", "some_other_identifier", CONTENTS[-1], sort_key=1)
    (tmp_path / "degenerate_file.txt").unlink()
    GetFilesByQueryTask(
        query={"metadata->key": "value"},
        fizzle_degenerate_file_name=False,
        sort_key="sort_key",
        sort_direction=1,
    ).run_task({})
    assert (tmp_path / "degenerate_file.txt").read_text() == CONTENTS[-1]  # the last written wins


def test_descending_by_metadata_writes_the_smallest_last(fp, tmp_path):
    add_one("degenerate_file.txt", "some_identifier", CONTENTS[0], sort_key=10)
    add_one("degenerate_file.txt", "some_other_identifier", CONTENTS[-1], sort_key=20)
    (tmp_path / "degenerate_file.txt").unlink()
    GetFilesByQueryTask(
        query={"metadata->key": "value"},
        fizzle_degenerate_file_name=False,
        sort_key="metadata.sort_key",
        sort_direction=-1,
    ).run_task({})
    assert (tmp_path / "degenerate_file.txt").read_text() == CONTENTS[0]
