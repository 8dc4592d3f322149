"""Duplicate finders (launchpad/dupefinder.py): FireWorks' DupeFinderBase and DupeFinderExact."""

import subprocess
import sys

import pytest
from conftest import ROOT

from launchpad import DupeFinderBase, DupeFinderExact
from launchpad.dupefinder import dupefinder_of
from launchpad.serialization import load_object


def test_dupefinders_serialize_as_fireworks_writes_them():
    assert DupeFinderExact().to_dict() == {"_fw_name": "DupeFinderExact"}
    assert load_object({"_fw_name": "DupeFinderExact"}) == DupeFinderExact()
    assert dupefinder_of({"_dupefinder": {"_fw_name": "DupeFinderExact"}}) == DupeFinderExact()
    assert DupeFinderExact().query({"a": 1}) == {"$and": [{"launches": {"$ne": []}}, {"spec": {"a": 1}}]}
    fireworks_path = "{{fireworks.user_objects.dupefinders.dupefinder_exact.DupeFinderExact}}"
    for name in ("Dupe Finder Exact", fireworks_path):  # FireWorks' other names for it
        assert load_object({"_fw_name": name}) == DupeFinderExact()
    with pytest.raises(NotImplementedError):
        DupeFinderBase().verify({}, {})


def test_importable_in_a_fresh_process():
    code = "from launchpad import DupeFinderBase, DupeFinderExact; print(DupeFinderExact().to_dict())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.stdout.strip() == "{'_fw_name': 'DupeFinderExact'}", done.stderr
