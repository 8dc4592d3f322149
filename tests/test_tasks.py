"""The built-in Firetasks: FireWorks' names and parameters, and the launch-directory fence."""

import bz2
import gzip
import os
import sys
import tarfile
import zipfile

import pytest

from launchpad.actions import FWAction
from launchpad.errors import TaskError
from launchpad.firetask import load_task, task_class
from launchpad.tasks import (
    ArchiveDirTask,
    CompressDirTask,
    DecompressDirTask,
    FileDeleteTask,
    FileTransferTask,
    FileWriteTask,
    PyTask,
    ScriptTask,
    TemplateWriterTask,
)
from launchpad.tasks import files as files_module
from launchpad.tasks.paths import ALLOW_ENV, writable_path

ALLOW = {"_allow_outside_launch_dir": True}
# What a confining worker's rocket (confine_launch_dir: true) gives its tasks; an empty spec,
# as in a task run straight from user code, writes anywhere, as FireWorks' tasks do.
CONFINED = {"_allow_outside_launch_dir": False}


@pytest.fixture
def launch_dir(tmp_path, monkeypatch):
    """A launch directory as the rocket gives it, with a sibling 'outside' directory."""
    inside = tmp_path / "launch"
    inside.mkdir()
    (tmp_path / "outside").mkdir()
    monkeypatch.chdir(inside)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    monkeypatch.delenv("STARSHELL_TEMPLATE_DIR", raising=False)
    return inside


def refused_then_allowed(task, produced):
    """The fence of a confined launch refuses ``task`` before it writes ``produced``; the spec
    flag lets it through."""
    with pytest.raises(TaskError, match="outside the launch directory.*my_fworker.yaml"):
        task.run_task(CONFINED)
    assert not os.path.lexists(produced)
    task.run_task(ALLOW)
    assert produced.exists()


# ---- registry --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, cls",
    [
        ("ScriptTask", ScriptTask),
        ("{{fireworks.user_objects.firetasks.script_task.ScriptTask}}", ScriptTask),
        ("{{fireworks.user_objects.firetasks.fileio_tasks.FileTransferTask}}", FileTransferTask),
        ("PyTask", PyTask),
        ("{{fireworks.user_objects.firetasks.script_task.PyTask}}", PyTask),
        ("FileWriteTask", FileWriteTask),
        ("FileDeleteTask", FileDeleteTask),
        ("CompressDirTask", CompressDirTask),
        ("DecompressDirTask", DecompressDirTask),
        ("ArchiveDirTask", ArchiveDirTask),
        ("TemplateWriterTask", TemplateWriterTask),
        ("{{fireworks.user_objects.firetasks.templatewriter_task.TemplateWriterTask}}", TemplateWriterTask),
    ],
)
def test_fireworks_names_resolve_to_builtin_tasks(name, cls):
    assert task_class(name) is cls


def test_task_round_trips_through_its_dict_form():
    task = load_task({"_fw_name": "ScriptTask", "script": "echo hi", "use_shell": True})
    assert isinstance(task, ScriptTask)
    assert task.to_dict() == {"_fw_name": "ScriptTask", "script": "echo hi", "use_shell": True}


# ---- paths -----------------------------------------------------------------


def test_writable_path_resolves_inside_the_launch_dir(launch_dir):
    assert writable_path("a/../b.txt", CONFINED) == str(launch_dir / "b.txt")
    assert writable_path(".", CONFINED) == str(launch_dir)


@pytest.mark.parametrize("path", ["../outside/x", "/etc/passwd", "~/x"])
def test_writable_path_refuses_escapes(launch_dir, path):
    with pytest.raises(TaskError, match="outside the launch directory.*_allow_outside_launch_dir"):
        writable_path(path, CONFINED)


def test_writable_path_expands_env_vars(launch_dir, monkeypatch):
    monkeypatch.setenv("SOMEWHERE", str(launch_dir.parent / "outside"))
    with pytest.raises(TaskError, match="outside"):
        writable_path("$SOMEWHERE/x", CONFINED)
    assert writable_path("$SOMEWHERE/x", CONFINED, expand=False) == str(launch_dir / "$SOMEWHERE" / "x")


def test_writable_path_follows_symlinks_and_dotdot_through_them(launch_dir):
    os.symlink(launch_dir.parent / "outside", "out")
    with pytest.raises(TaskError):
        writable_path("out/x", CONFINED)
    with pytest.raises(TaskError):
        writable_path("out", CONFINED)
    # "out/.." is the parent of the link's target, not the launch directory
    with pytest.raises(TaskError):
        writable_path("out/../launch_sibling", CONFINED)
    # the link itself may be removed: that never touches its target
    assert writable_path("out", CONFINED, follow_last=False) == str(launch_dir / "out")


@pytest.mark.parametrize(
    "spec, env",
    [(ALLOW, None), ({"_allow_outside_launch_dir": "true"}, None), (CONFINED, "1"), (CONFINED, "true")],
)
def test_writable_path_allowed_by_spec_or_env(launch_dir, monkeypatch, spec, env):
    if env:
        monkeypatch.setenv(ALLOW_ENV, env)
    assert writable_path("../outside/x", spec) == str(launch_dir.parent / "outside" / "x")


@pytest.mark.parametrize("spec", [None, {}, {"input": 1}])
def test_writable_path_without_the_key_allows_anywhere_as_in_fireworks(launch_dir, spec):
    assert writable_path("../outside/x", spec) == str(launch_dir.parent / "outside" / "x")


@pytest.mark.parametrize(
    "spec, env", [({"_allow_outside_launch_dir": "false"}, "0"), ({"_allow_outside_launch_dir": False}, "no")]
)
def test_writable_path_false_words_do_not_allow(launch_dir, monkeypatch, spec, env):
    monkeypatch.setenv(ALLOW_ENV, env)
    with pytest.raises(TaskError):
        writable_path("../outside/x", spec)


# ---- ScriptTask ------------------------------------------------------------


def test_script_stores_output_and_return_codes(launch_dir):
    action = ScriptTask(script="echo out; echo err >&2", store_stdout=True, store_stderr=True).run_task({})
    assert action.stored_data == {
        "stdout": "out\n",
        "stderr": "err\n",
        "returncode": 0,
        "all_returncodes": [0],
    }
    assert not action.defuse_children


def test_script_does_not_store_unless_asked(launch_dir, capfd):
    action = ScriptTask(script="echo err >&2").run_task({})
    assert action.stored_data == {"returncode": 0, "all_returncodes": [0]}
    assert "err" in capfd.readouterr().err  # still reaches the launch's log


def test_script_list_runs_in_turn_and_stops_at_first_failure(launch_dir):
    task = ScriptTask(script=["echo a > f", "echo b >> f; exit 3", "echo c >> f"], fizzle_bad_rc=False)
    action = task.run_task({})
    assert (launch_dir / "f").read_text() == "a\nb\n"
    assert action.stored_data["all_returncodes"] == [0, 3]
    assert action.stored_data["returncode"] == 3


def test_script_bad_rc_fizzles_with_rc_and_stderr_tail(launch_dir):
    with pytest.raises(TaskError, match=r"(?s)return code 7.*disk full"):
        ScriptTask(script="echo disk full >&2; exit 7").run_task({})


def test_script_defuse_bad_rc_defuses_children(launch_dir):
    action = ScriptTask(script="exit 2", defuse_bad_rc=True).run_task({})
    assert action.defuse_children
    assert action.stored_data["returncode"] == 2


def test_script_defuse_and_fizzle_together_is_refused(launch_dir):
    with pytest.raises(TaskError, match="both"):
        ScriptTask(script="true", defuse_bad_rc=True, fizzle_bad_rc=True).run_task({})


def test_script_without_shell_splits_with_shlex(launch_dir):
    action = ScriptTask(
        script=f"{sys.executable} -c 'print(\"a b\")'", use_shell=False, store_stdout=True
    ).run_task({})
    assert action.stored_data["stdout"] == "a b\n"


def test_script_missing_program_is_a_task_error(launch_dir):
    with pytest.raises(TaskError, match="cannot start"):
        ScriptTask(script="no-such-program-xyz", use_shell=False).run_task({})


def test_script_shell_exe(launch_dir):
    action = ScriptTask(
        script="echo ${BASH_VERSION:+bash}", shell_exe="/bin/bash", store_stdout=True
    ).run_task({})
    assert action.stored_data["stdout"] == "bash\n"


def test_script_stdin_from_key_and_file(launch_dir):
    by_key = ScriptTask(script="cat", stdin_key="text", store_stdout=True)
    assert by_key.run_task({"text": "from spec"}).stored_data["stdout"] == "from spec"
    (launch_dir / "in.txt").write_text("from file")
    by_file = ScriptTask(script="cat", stdin_file="in.txt", store_stdout=True)
    assert by_file.run_task({}).stored_data["stdout"] == "from file"
    with pytest.raises(TaskError, match="not in the firework's spec"):
        by_key.run_task({})
    with pytest.raises(TaskError, match="not both"):
        ScriptTask(script="cat", stdin_key="k", stdin_file="in.txt").run_task({"k": "x"})


def test_script_output_files_append(launch_dir):
    task = ScriptTask(script="echo out; echo err >&2", stdout_file="o.log", stderr_file="e.log")
    task.run_task({})
    task.run_task({})
    assert (launch_dir / "o.log").read_text() == "out\nout\n"
    assert (launch_dir / "e.log").read_text() == "err\nerr\n"


def test_script_output_file_outside_is_refused_before_running(launch_dir):
    task = ScriptTask(script="echo x >> ran", stdout_file="../outside/o.log")
    refused_then_allowed(task, launch_dir.parent / "outside" / "o.log")
    assert (launch_dir / "ran").read_text() == "x\n"  # ran once: only when allowed


def test_script_use_global_spec(launch_dir):
    task = ScriptTask(script="ignored", use_global_spec=True)
    action = task.run_task({"script": "echo global", "store_stdout": True})
    assert action.stored_data["stdout"] == "global\n"


def test_script_underscore_use_global_spec_as_fireworks_docs_write_it(launch_dir):
    task = load_task({"_fw_name": "ScriptTask", "script": "ignored", "_use_global_spec": True})
    action = task.run_task({"script": "echo global", "store_stdout": True})
    assert action.stored_data["stdout"] == "global\n"


# ---- PyTask ----------------------------------------------------------------


def add(a, b, scale=1):
    return (a + b) * scale


def pair(a, b):
    return a + b, a * b


def chain_action(value):
    return FWAction(update_spec={"next": value}, stored_data={"seen": value})


class Holder:
    @staticmethod
    def triple(x):
        return 3 * x


HERE = __name__


def test_pytask_calls_dotted_and_builtin_functions(launch_dir):
    assert PyTask(func="os.path.join", args=["a", "b"]).run_task({}) is None
    action = PyTask(func="len", args=[[1, 2]], stored_data_varname="n").run_task({})
    assert action.stored_data == {"n": 2}
    action = PyTask(func=f"{HERE}.Holder.triple", args=[2], stored_data_varname="r").run_task({})
    assert action.stored_data == {"r": 6}


def test_pytask_kwargs_and_auto_kwargs(launch_dir):
    explicit = PyTask(func=f"{HERE}.add", args=[1, 2], kwargs={"scale": 10}, stored_data_varname="r")
    assert explicit.run_task({}).stored_data == {"r": 30}
    auto = PyTask(
        func=f"{HERE}.add", auto_kwargs=True, a=1, b=2, scale=2, _private="skip", stored_data_varname="r"
    )
    assert auto.run_task({}).stored_data == {"r": 6}


def test_pytask_inputs_and_outputs(launch_dir):
    one = PyTask(func=f"{HERE}.add", args=[1], inputs=["x"], outputs=["total"])
    assert one.run_task({"x": 4}).update_spec == {"total": 5}
    two = PyTask(
        func=f"{HERE}.pair", inputs=["x", "y"], outputs=["sum", "product"], stored_data_varname="both"
    )
    action = two.run_task({"x": 2, "y": 5})
    assert action.update_spec == {"sum": 7, "product": 10}
    assert action.stored_data == {"both": (7, 10)}
    with pytest.raises(TaskError, match="input 'x' is not in the firework's spec"):
        one.run_task({})
    with pytest.raises(TaskError, match="2 outputs"):
        PyTask(func=f"{HERE}.add", args=[1, 2], outputs=["a", "b"]).run_task({})


def test_pytask_chunk_number_pushes_outputs(launch_dir):
    action = PyTask(func=f"{HERE}.pair", args=[2, 3], outputs=["all"], chunk_number=0).run_task({})
    assert action.mod_spec == [{"_push": {"all": 5}}, {"_push": {"all": 6}}]


def test_pytask_returned_fwaction_passes_through(launch_dir):
    action = PyTask(func=f"{HERE}.chain_action", args=[3]).run_task({})
    assert action.update_spec == {"next": 3}
    assert action.stored_data == {"seen": 3}


@pytest.mark.parametrize(
    "func, message",
    [
        ("no_such_builtin", "not a builtin"),
        ("no_such_module_xyz.f", "no module 'no_such_module_xyz'"),
        ("os.path.no_such_function", "'no_such_function' not found"),
        ("os.sep", "not callable"),
    ],
)
def test_pytask_bad_func_names_are_task_errors(launch_dir, func, message):
    with pytest.raises(TaskError, match=message):
        PyTask(func=func).run_task({})


def test_pytask_broken_module_reports_its_missing_dependency(launch_dir, monkeypatch):
    pkg = launch_dir / "brokenpkg_xyz"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(launch_dir))
    with pytest.raises(TaskError, match="missing_dependency_xyz"):
        PyTask(func="brokenpkg_xyz.f").run_task({})


# ---- FileWriteTask / FileDeleteTask ---------------------------------------


def test_file_write_task(launch_dir):
    FileWriteTask(
        files_to_write=[{"filename": "a.txt", "contents": "A"}, {"filename": "b.txt", "contents": 5}],
        dest="sub",
    ).run_task({})
    assert (launch_dir / "sub" / "a.txt").read_text() == "A"
    assert (launch_dir / "sub" / "b.txt").read_text() == "5"
    with pytest.raises(TaskError, match="needs 'filename' and 'contents'"):
        FileWriteTask(files_to_write=[{"filename": "x"}]).run_task({})


def test_file_write_outside_refused_then_allowed(launch_dir):
    task = FileWriteTask(files_to_write=[{"filename": "x.txt", "contents": "X"}], dest="../outside")
    refused_then_allowed(task, launch_dir.parent / "outside" / "x.txt")


def test_file_delete_task(launch_dir):
    (launch_dir / "a").write_text("")
    FileDeleteTask(files_to_delete=["a", "missing"]).run_task({})  # ignore_errors defaults on
    assert not (launch_dir / "a").exists()
    with pytest.raises(TaskError, match="cannot delete .*missing"):
        FileDeleteTask(files_to_delete=["missing"], ignore_errors=False).run_task({})


def test_file_delete_escape_is_refused_even_with_ignore_errors(launch_dir):
    victim = launch_dir.parent / "outside" / "keep"
    victim.write_text("")
    task = FileDeleteTask(files_to_delete=["keep"], dest="../outside", ignore_errors=True)
    with pytest.raises(TaskError, match="outside"):
        task.run_task(CONFINED)
    assert victim.exists()
    task.run_task(ALLOW)
    assert not victim.exists()


def test_file_delete_removes_a_link_not_its_target(launch_dir):
    target = launch_dir.parent / "outside" / "data"
    target.write_text("keep")
    os.symlink(target, "link")
    FileDeleteTask(files_to_delete=["link"], ignore_errors=False).run_task(CONFINED)
    assert not os.path.lexists("link") and target.read_text() == "keep"


# ---- FileTransferTask ------------------------------------------------------


@pytest.fixture
def source(launch_dir):
    src = launch_dir.parent / "outside" / "src.txt"
    src.write_text("data")
    return src


@pytest.mark.parametrize("mode", ["copy", "cp", "copy2", "copyfile"])
def test_transfer_copies_from_anywhere(launch_dir, source, mode):
    FileTransferTask(mode=mode, files=[{"src": str(source), "dest": "copy.txt"}]).run_task(CONFINED)
    assert (launch_dir / "copy.txt").read_text() == "data"
    assert source.exists()


def test_transfer_string_entries_use_task_dest(launch_dir, source):
    (launch_dir / "into").mkdir()
    FileTransferTask(mode="cp", files=[str(source)], dest="into").run_task(CONFINED)
    assert (launch_dir / "into" / "src.txt").read_text() == "data"
    with pytest.raises(TaskError, match="no destination"):
        FileTransferTask(mode="cp", files=[str(source)]).run_task({})


@pytest.mark.parametrize("mode", ["move", "mv"])
def test_transfer_move_inside(launch_dir, mode):
    (launch_dir / "a").write_text("A")
    FileTransferTask(mode=mode, files=[{"src": "a", "dest": "b"}]).run_task({})
    assert (launch_dir / "b").read_text() == "A" and not (launch_dir / "a").exists()


def test_transfer_move_from_outside_deletes_there_so_needs_the_flag(launch_dir, source):
    task = FileTransferTask(mode="move", files=[{"src": str(source), "dest": "moved"}])
    with pytest.raises(TaskError, match="outside"):
        task.run_task(CONFINED)
    assert source.exists()
    task.run_task(ALLOW)
    assert (launch_dir / "moved").read_text() == "data"


def test_transfer_copytree_and_symlink(launch_dir, source):
    FileTransferTask(mode="copytree", files=[{"src": str(source.parent), "dest": "tree"}]).run_task(CONFINED)
    assert (launch_dir / "tree" / "src.txt").read_text() == "data"
    FileTransferTask(mode="symlink", files=[{"src": str(source), "dest": "link"}]).run_task(CONFINED)
    assert os.readlink("link") == str(source)


def test_transfer_symlink_into_directory_keeps_name(launch_dir, source):
    (launch_dir / "d").mkdir()
    FileTransferTask(mode="symlink", files=[str(source)], dest="d").run_task(CONFINED)
    assert os.readlink(launch_dir / "d" / "src.txt") == str(source)


def test_transfer_destination_outside_refused(launch_dir, source):
    task = FileTransferTask(mode="copy", files=[{"src": str(source), "dest": "../outside/c"}])
    refused_then_allowed(task, launch_dir.parent / "outside" / "c")


def test_transfer_into_directory_through_escaping_link_refused(launch_dir, source):
    os.symlink(launch_dir.parent / "outside", "out")
    with pytest.raises(TaskError, match="outside"):
        FileTransferTask(mode="copy", files=[str(source)], dest="out").run_task(CONFINED)


def test_transfer_remote_and_unknown_modes_refused(launch_dir):
    with pytest.raises(TaskError, match="rtransfer.*not supported"):
        FileTransferTask(mode="rtransfer", files=["a"], dest="b", server="h").run_task({})
    with pytest.raises(TaskError, match="unknown mode 'teleport'"):
        FileTransferTask(mode="teleport", files=["a"], dest="b").run_task({})


def test_transfer_retries_then_fails_or_ignores(launch_dir, monkeypatch):
    waits = []
    monkeypatch.setattr(files_module, "sleep", waits.append)
    task = FileTransferTask(mode="copy", files=[{"src": "missing", "dest": "x"}], max_retry=2, retry_delay=5)
    with pytest.raises(TaskError, match="failed after 3 attempt"):
        task.run_task({})
    assert waits == [5.0, 5.0]
    FileTransferTask(mode="copy", files=[{"src": "missing", "dest": "x"}], ignore_errors=True).run_task({})


def test_transfer_retry_succeeds_when_the_file_appears(launch_dir, monkeypatch):
    monkeypatch.setattr(files_module, "sleep", lambda _s: (launch_dir / "late").write_text("L"))
    FileTransferTask(
        mode="copy", files=[{"src": "late", "dest": "got"}], max_retry=1, retry_delay=0
    ).run_task({})
    assert (launch_dir / "got").read_text() == "L"


# ---- Compress / Decompress / Archive ---------------------------------------


@pytest.mark.parametrize("compression, opener", [("gz", gzip.open), ("bz2", bz2.open)])
def test_compress_then_decompress_dir(launch_dir, compression, opener):
    (launch_dir / "sub").mkdir()
    (launch_dir / "sub" / "a.txt").write_text("A" * 100)
    (launch_dir / "b.txt").write_text("B")
    CompressDirTask(compression=compression).run_task({})
    packed = launch_dir / "sub" / f"a.txt.{compression}"
    assert not (launch_dir / "sub" / "a.txt").exists()
    with opener(packed, "rt") as f:
        assert f.read() == "A" * 100
    CompressDirTask(compression=compression).run_task({})  # already compressed: left alone
    DecompressDirTask().run_task({})
    assert (launch_dir / "sub" / "a.txt").read_text() == "A" * 100
    assert (launch_dir / "b.txt").read_text() == "B" and not packed.exists()


def test_decompress_only_the_given_kind(launch_dir):
    with gzip.open(launch_dir / "g.gz", "wt") as f:
        f.write("g")
    with bz2.open(launch_dir / "b.bz2", "wt") as f:
        f.write("b")
    DecompressDirTask(compression="bz2").run_task({})
    assert (launch_dir / "b").read_text() == "b" and (launch_dir / "g.gz").exists()


def test_compress_bad_options_and_errors(launch_dir):
    with pytest.raises(TaskError, match="'gz' or 'bz2'"):
        CompressDirTask(compression="zip").run_task({})
    with pytest.raises(TaskError, match="not a directory"):
        CompressDirTask(dest="nowhere").run_task({})
    CompressDirTask(dest="nowhere", ignore_errors=True).run_task({})
    (launch_dir / "bad.gz").write_text("not gzip")
    with pytest.raises(TaskError, match="could not decompress .*bad.gz"):
        DecompressDirTask().run_task({})
    assert (launch_dir / "bad.gz").exists() and not (launch_dir / "bad").exists()
    DecompressDirTask(ignore_errors=True).run_task({})


def test_compress_outside_refused(launch_dir):
    (launch_dir.parent / "outside" / "f").write_text("f")
    refused_then_allowed(CompressDirTask(dest="../outside"), launch_dir.parent / "outside" / "f.gz")


def test_archive_dir_task(launch_dir):
    (launch_dir / "a.txt").write_text("A")
    ArchiveDirTask(base_name="run").run_task({})
    with tarfile.open(launch_dir / "run.tar.gz") as tar:
        names = tar.getnames()
    assert "./a.txt" in names and not any(n.endswith("run.tar.gz") for n in names)
    ArchiveDirTask(base_name="run", format="zip").run_task({})
    with zipfile.ZipFile(launch_dir / "run.zip") as archive:
        assert "a.txt" in archive.namelist() and "run.zip" not in archive.namelist()
    with pytest.raises(TaskError, match="unknown format 'rar'"):
        ArchiveDirTask(base_name="run", format="rar").run_task({})
    refused_then_allowed(
        ArchiveDirTask(base_name="../outside/run"), launch_dir.parent / "outside" / "run.tar.gz"
    )


# ---- TemplateWriterTask ----------------------------------------------------


def test_template_writer_renders_and_appends(launch_dir):
    (launch_dir / "t.txt").write_text("x = {{ x }}\n{% for i in items %}{{ i }} {% endfor %}\n")
    task = TemplateWriterTask(template_file="t.txt", context={"x": 1, "items": [1, 2]}, output_file="out.txt")
    task.run_task({})
    assert (launch_dir / "out.txt").read_text() == "x = 1\n1 2 \n"
    TemplateWriterTask(
        template_file="t.txt", context={"x": 2, "items": []}, output_file="out.txt", append=True
    ).run_task({})
    assert (launch_dir / "out.txt").read_text() == "x = 1\n1 2 \nx = 2\n\n"


def test_template_dir_from_param_or_env_with_includes(launch_dir, monkeypatch):
    tdir = launch_dir.parent / "templates"
    tdir.mkdir()
    (tdir / "head.txt").write_text("HEAD")
    (tdir / "t.txt").write_text("{% include 'head.txt' %}:{{ v }}")
    TemplateWriterTask(
        template_file="t.txt", template_dir=str(tdir), context={"v": 1}, output_file="a"
    ).run_task({})
    assert (launch_dir / "a").read_text() == "HEAD:1"
    monkeypatch.setenv("STARSHELL_TEMPLATE_DIR", str(tdir))
    TemplateWriterTask(template_file="t.txt", context={"v": 2}, output_file="b").run_task({})
    assert (launch_dir / "b").read_text() == "HEAD:2"


def test_template_missing_file_names_the_path(launch_dir):
    task = TemplateWriterTask(template_file="nope.txt", context={}, output_file="o")
    with pytest.raises(TaskError, match=f"no template file at {launch_dir / 'nope.txt'}"):
        task.run_task({})


def test_template_syntax_error_names_file_and_line(launch_dir):
    (launch_dir / "bad.txt").write_text("ok\n{% if %}\n")
    with pytest.raises(TaskError, match=r"bad.txt:2:"):
        TemplateWriterTask(template_file="bad.txt", context={}, output_file="o").run_task({})


def test_template_output_outside_refused_then_allowed(launch_dir):
    (launch_dir / "t.txt").write_text("{{ v }}")
    task = TemplateWriterTask(template_file="t.txt", context={"v": 1}, output_file="../outside/o")
    refused_then_allowed(task, launch_dir.parent / "outside" / "o")
    assert (launch_dir.parent / "outside" / "o").read_text() == "1"


def test_template_use_global_spec(launch_dir):
    (launch_dir / "t.txt").write_text("{{ v }}")
    task = TemplateWriterTask(template_file="x", context={}, output_file="x", use_global_spec=True)
    task.run_task({"template_file": "t.txt", "context": {"v": 9}, "output_file": "g"})
    assert (launch_dir / "g").read_text() == "9"
    with pytest.raises(TaskError, match="needs context"):
        task.run_task({"template_file": "t.txt", "output_file": "g"})


# ---- run straight from user code (no rocket), as FireWorks users' own tests run tasks ----

OUTSIDE_WRITES = {
    "FileWriteTask": (
        lambda out: FileWriteTask(files_to_write=[{"filename": "w.txt", "contents": "W"}], dest=str(out)),
        "w.txt",
    ),
    "FileTransferTask copy": (
        lambda out: FileTransferTask(mode="copy", files=[{"src": "in.txt", "dest": str(out / "c.txt")}]),
        "c.txt",
    ),
    "FileTransferTask move": (
        lambda out: FileTransferTask(mode="move", files=["in.txt"], dest="../outside"),
        "in.txt",
    ),
    "FileTransferTask symlink": (
        lambda out: FileTransferTask(mode="symlink", files=[{"src": "in.txt", "dest": str(out / "l")}]),
        "l",
    ),
    "ScriptTask stdout_file": (
        lambda out: ScriptTask(script="echo hi", stdout_file=str(out / "o.log")),
        "o.log",
    ),
    "TemplateWriterTask": (
        lambda out: TemplateWriterTask(template_file="t.txt", context={"v": 1}, output_file=str(out / "t")),
        "t",
    ),
    "ArchiveDirTask": (lambda out: ArchiveDirTask(base_name=str(out / "run")), "run.tar.gz"),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE_WRITES))
def test_a_task_run_directly_writes_outside_the_current_directory_as_in_fireworks(launch_dir, case):
    outside = launch_dir.parent / "outside"
    (launch_dir / "in.txt").write_text("data")
    (launch_dir / "t.txt").write_text("{{ v }}")
    make, produced = OUTSIDE_WRITES[case]
    make(outside).run_task({})
    assert os.path.lexists(outside / produced)


def test_a_task_run_directly_deletes_and_compresses_outside_as_in_fireworks(launch_dir):
    outside = launch_dir.parent / "outside"
    (outside / "old").write_text("")
    (outside / "f").write_text("f")
    FileDeleteTask(files_to_delete=["old"], dest=str(outside), ignore_errors=False).run_task({"input": 1})
    CompressDirTask(dest=str(outside)).run_task({})
    assert os.listdir(outside) == ["f.gz"]
