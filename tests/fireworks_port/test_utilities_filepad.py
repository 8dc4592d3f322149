"""Port of FireWorks 2.1.x fireworks/utilities/tests/test_filepad.py.

Every scenario there is covered already, on both stores, by tests/test_filepad.py:
- add_file with an identifier, and without one (the identifier is the gfs_id):
  test_add_and_get_with_fireworks_fields, test_an_identifier_is_added_once_and_none_means_the_gfs_id
- get_file: contents, identifier, metadata, original_file_name/_path, compressed:
  test_add_and_get_with_fireworks_fields
- delete_file, then get_file gives (None, None): test_queries_sort_and_deletes
- update_file and update_file_by_id (old and new gfs_id, contents read back):
  test_update_replaces_contents_and_keeps_the_rest
- FilePad.auto_load() from the user's launchpad file: test_auto_load_uses_the_launchpad_store

What is left is FireWorks' check that the old contents left GridFS, through the
pad's raw ``gridfs`` handle: starshell keeps its storage private (docs/filepad.md),
so the same fact is read through the API, and the raw handles are absent.
"""

import pytest

from launchpad import FilePad


@pytest.fixture
def fp(lp):
    return FilePad(store=lp.store)


def test_updated_contents_leave_the_store_and_the_raw_handles_are_private(fp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "CHGCAR.Fe3O4").write_text("charge density\n" * 50)
    gfs_id, _ = fp.add_file("CHGCAR.Fe3O4", identifier="test_update_file")
    old_id, new_id = fp.update_file("test_update_file", "CHGCAR.Fe3O4")
    assert (old_id, new_id != gfs_id) == (gfs_id, True)
    assert fp.get_file_by_id(old_id) == (None, None)  # FireWorks: not fp.gridfs.exists(ObjectId(old_id))
    assert not hasattr(fp, "gridfs") and not hasattr(fp, "filepad")
