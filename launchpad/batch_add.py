"""Adding many workflow files at once (``lpad add``): streamed, and all or nothing.

Files are read, checked and inserted one at a time, so memory does not grow
with the number of files (before, every file was loaded before the first
insert: 1.4 GB for 1,000 files of 1,000 fireworks). The promise that one bad
file adds nothing holds in one of two ways, chosen by the store:

- a store whose transaction can hold the whole batch (SQLite) reads each
  file once, inside one transaction, and rolls it all back at the first bad
  file: one read of each file, one commit;
- a store without multi-document transactions (MongoDB) first checks every
  file, keeping nothing, then reads and inserts each again.
"""

from dataclasses import dataclass

from .workflow_files import load_workflow


@dataclass
class FileAdded:
    """One file's outcome; ``ids`` is what ``keep_ids`` made of its id map (None: only checked)."""

    path: str
    name: str
    fireworks: int
    links: int
    ids: object = None


def add_files(add_wf, store, paths, check_only=False, keep_ids=dict, progress=None):
    """Add (or with ``check_only`` check) the workflow files ``paths``; a list of FileAdded.

    ``add_wf(workflow)`` inserts one workflow and returns its id map; ``keep_ids``
    turns that map into what the result keeps (the CLI keeps a short text, so
    that a million ids are not held); ``progress(phase, files, total, fireworks)``
    is called after each file, ``phase`` being "checked" or "added".
    """
    paths = list(paths)
    if check_only:
        return _each_file(paths, "checked", None, keep_ids, progress)
    if getattr(store, "atomic_batches", False):
        with store.transaction():
            return _each_file(paths, "added", add_wf, keep_ids, progress)
    _each_file(paths, "checked", None, keep_ids, progress)
    return _each_file(paths, "added", add_wf, keep_ids, progress)


def _each_file(paths, phase, add_wf, keep_ids, progress):
    results, fireworks = [], 0
    for done, path in enumerate(paths, 1):
        wf = load_workflow(path)
        entry = FileAdded(path, wf.name, len(wf.id_fw), sum(len(kids) for kids in wf.links.values()))
        if add_wf is not None:
            entry.ids = keep_ids(add_wf(wf))
        del wf  # before the next file is read: one workflow in memory at a time
        results.append(entry)
        fireworks += entry.fireworks
        if progress is not None:
            progress(phase, done, len(paths), fireworks)
    return results
