"""docs/fireworks.md names every public FireWorks class and function a ported script may
import, and every starshell import it gives for them works; the FireWorks helpers behave
as FireWorks' do.

FireWorks' names are test data (tests/data/fireworks_public_names.json, written by
tests/data/fireworks_public_names.py in a FireWorks virtualenv), so this runs without it.
"""

import importlib
import json
import logging
import os
import re
import sys

import pytest

from launchpad.errors import FWValueError, LockedWorkflowError, NotFoundError
from launchpad.fw_utilities import (
    apply_mod,
    arrow_to_dot,
    create_datestamp_dir,
    get_fw_logger,
    get_slug,
    redirect_local,
)
from queue_adapters.queue_adapter import QScriptTemplate
from rocket.launcher import get_fworker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "fireworks.md")
NAMES = os.path.join(ROOT, "tests", "data", "fireworks_public_names.json")


def doc_text():
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def other_names_rows():
    """The table rows of the doc's "Other public names" section, as (FireWorks, starshell) cells."""
    section = doc_text().split("### Other public names", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split(" | ") for line in section.splitlines() if line.startswith("| `")]
    assert rows, "no rows under 'Other public names'"
    return rows


def test_every_fireworks_public_name_is_in_the_doc():
    with open(NAMES, encoding="utf-8") as handle:
        modules = json.load(handle)["modules"]
    assert len(modules) >= 10 and "fireworks.core.launchpad" in modules
    text = doc_text()
    missing = {
        module: [n for n in names if not re.search(rf"\b{re.escape(n)}\b", text)]
        for module, names in modules.items()
    }
    assert {m: n for m, n in missing.items() if n} == {}


def test_every_import_the_other_names_table_gives_works():
    checked = 0
    for fireworks_cell, starshell_cell in other_names_rows():
        if starshell_cell.startswith("not offered"):
            continue
        fw_names = set(re.findall(r"`(\w+)`", fireworks_cell.split(" (", 1)[0]))
        imported = set()
        for module, names in re.findall(r"`from ([\w.]+) import ([\w, ]+)`", starshell_cell):
            loaded = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(loaded, name), f"{module} has no {name}"
                imported.add(name)
                checked += 1
        assert fw_names <= imported, f"row {fireworks_cell!r} imports only {sorted(imported)}"
        for module in re.findall(r"also from ((?:`[\w.]+`(?:, )?)+)", starshell_cell):
            for also in re.findall(r"`([\w.]+)`", module):
                loaded = importlib.import_module(also)
                assert any(hasattr(loaded, n) for n in fw_names), f"{also} exports none of {fw_names}"
    assert checked >= 20


def test_every_starshell_import_in_the_import_map_works():
    section = doc_text().split("## Import map", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"`from ((?:launchpad|rocket|queue_adapters)[\w.]*) import ([\w, ]+)", section)
    missing = [
        (module, name)
        for module, names in found
        for name in filter(None, (n.strip() for n in names.split(",")))
        if not hasattr(importlib.import_module(module), name)
    ]
    assert len(found) >= 30 and missing == []


def test_except_fwvalueerror_catches_a_missing_firework(lp):
    with pytest.raises(FWValueError) as caught:
        lp.get_fw_by_id(999)
    assert isinstance(caught.value, NotFoundError) and isinstance(caught.value, ValueError)


def test_locked_workflow_error_is_a_value_error():
    assert issubclass(LockedWorkflowError, ValueError)


def test_get_fw_logger_writes_its_level_files_in_l_dir(tmp_path, capsys):
    logger = get_fw_logger("starshell_test.names", l_dir=str(tmp_path), stream_level="ERROR")
    again = get_fw_logger("starshell_test.names", l_dir=str(tmp_path), stream_level="ERROR")
    assert again is logger and isinstance(logger, logging.Logger)
    logger.info("plain news")
    logger.error("bad news")
    for handler in logger.handlers:
        handler.flush()
    debug = (tmp_path / "starshell_test_names-debug.log").read_text()
    error = (tmp_path / "starshell_test_names-error.log").read_text()
    assert debug.count("plain news") == 1 and debug.count("bad news") == 1
    assert "plain news" not in error and error.count("ERROR bad news") == 1
    assert capsys.readouterr().out.count("bad news") == 1


def test_qscript_template_fills_double_dollar_placeholders():
    filled = QScriptTemplate("#SBATCH -N $${nodes}\ncd $${launch_dir} && echo $HOME").substitute(
        nodes=2, launch_dir="/scratch/x"
    )
    assert filled == "#SBATCH -N 2\ncd /scratch/x && echo $HOME"


def test_create_datestamp_dir_makes_distinct_block_dirs(tmp_path):
    log = logging.getLogger("starshell_test.datestamp")
    made = {create_datestamp_dir(str(tmp_path), log) for _ in range(3)}
    made.add(create_datestamp_dir(str(tmp_path), log, prefix="launcher_"))
    names = sorted(os.path.basename(p) for p in made)
    assert len(names) == 4 and all(os.path.isdir(p) for p in made)
    assert [n.split("_")[0] for n in names] == ["block", "block", "block", "launcher"]
    assert re.fullmatch(r"block_\d{4}(-\d\d){5}-\d{6}", names[0])


def test_small_helpers_behave_as_fireworks():
    assert get_slug("my job: #1 (test)") == "my_job_1_(test)"
    assert arrow_to_dot({"metadata->a": {"b->c": 1}, "x": [{"d->e": 2}]}) == {
        "metadata.a": {"b.c": 1},
        "x": [{"d->e": 2}],
    }
    spec = {"a": 1, "l": [1]}
    assert apply_mod({"_set": {"b->c": 2}, "_push": {"l": 2}}, spec) is None
    assert spec == {"a": 1, "l": [1, 2], "b": {"c": 2}}
    with pytest.raises(ValueError):
        apply_mod({"_nonsense": {}}, spec)


def test_redirect_local_sends_output_to_files(tmp_path):
    out, err = tmp_path / "FW_job.out", tmp_path / "FW_job.error"
    with redirect_local(str(out), str(err)):
        print("to out", flush=True)
        os.write(sys.stderr.fileno(), b"to err\n")
    assert out.read_text() == "to out\n" and err.read_text() == "to err\n"


def test_get_fworker_reads_my_fworker_yaml_here(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FW_CONFIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert get_fworker().name == "Automatically generated Worker"
    (tmp_path / "my_fworker.yaml").write_text("name: bigmem\ncategory: large\n")
    assert (get_fworker().name, get_fworker().category) == ("bigmem", "large")
    given = get_fworker()
    assert get_fworker(given) is given
