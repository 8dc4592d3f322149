"""Port of FireWorks 2.1.x fireworks/user_objects/firetasks/tests/test_fileio_tasks.py.

The file tasks built and run directly, and loaded from FireWorks' own task
files (``write.yaml``/``delete.yaml``, written here with the same content).
The same tasks inside a rocket, and their edge cases: tests/test_tasks.py.
"""

import os

import pytest

from launchpad import ArchiveDirTask, CompressDirTask, DecompressDirTask, FileWriteTask
from launchpad.serialization import load_object_from_file

WRITE_YAML = """\
_fw_name: FileWriteTask
dest: "."
files_to_write:
- contents: |
    hello
    world
  filename: myfile1
- contents: world
  filename: myfile2
"""
DELETE_YAML = """\
_fw_name: FileDeleteTask
dest: "."
files_to_delete:
- myfile1
- myfile2
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "write.yaml").write_text(WRITE_YAML)
    (tmp_path / "delete.yaml").write_text(DELETE_YAML)
    return tmp_path


def test_file_write_task_takes_keywords_or_a_dict_and_needs_its_parameter():
    FileWriteTask(files_to_write="hello")
    FileWriteTask({"files_to_write": "hello"})
    with pytest.raises(RuntimeError):
        FileWriteTask()


def test_write_then_delete_from_fireworks_task_files(in_tmp):
    load_object_from_file("write.yaml").run_task({})
    assert (in_tmp / "myfile1").read_text() == "hello\nworld\n"
    assert (in_tmp / "myfile2").read_text() == "world"
    load_object_from_file("delete.yaml").run_task({})
    assert not os.path.exists("myfile1") and not os.path.exists("myfile2")


def test_compress_then_decompress_the_directory(in_tmp):
    CompressDirTask(compression="gz").run_task({})
    assert os.path.exists("delete.yaml.gz") and not os.path.exists("delete.yaml")
    DecompressDirTask().run_task({})
    assert not os.path.exists("delete.yaml.gz")
    assert (in_tmp / "delete.yaml").read_text() == DELETE_YAML


def test_archive_dir_with_shutils_format_name(in_tmp):
    ArchiveDirTask(base_name="archive", format="gztar").run_task({})
    assert os.path.exists("archive.tar.gz")
