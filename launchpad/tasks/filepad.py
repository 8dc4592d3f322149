"""FireWorks' FilePad tasks: move files between launch directories and the FilePad.

AddFilesTask stores files, GetFilesTask and GetFilesByQueryTask write them
into the launch directory (block by block, so big files never sit whole in
memory), DeleteFilesTask removes them. Without ``filepad_file`` a task uses
``FilePad.auto_load()``, which finds the rocket's own store: rlaunch names its
launchpad file in $STARSHELL_LAUNCHPAD while tasks run in launch directories.
"""

import contextlib
import glob
import json
import os

from ..errors import TaskError, TaskValueError
from ..firetask import FiretaskBase
from .paths import writable_path


def get_fpad(filepad_file=None):
    """The FilePad a task names in ``filepad_file``, else the auto-loaded one."""
    from ..filepad import FilePad  # the store modules load only when a task runs

    if filepad_file:
        return FilePad.from_db_file(filepad_file)
    return FilePad.auto_load()


@contextlib.contextmanager
def _opened(task):
    """The task's FilePad, closed when the task is done with it."""
    fpad = get_fpad(task.get("filepad_file"))
    try:
        yield fpad
    finally:
        fpad.close()


def _names(task, key):
    value = task.get(key)
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list):
        raise TaskError(f"{task.fw_name}: {key!r} must be a list, got {value!r:.60}")
    return value


class AddFilesTask(FiretaskBase):
    """Add ``paths`` (a list, or a glob pattern in ``directory``) to the FilePad.

    Files are named by ``identifiers`` (default: their absolute paths); an
    identifier already in the pad keeps its file, as in FireWorks.
    """

    _fw_name = "AddFilesTask"
    required_params = ("paths",)
    optional_params = ("identifiers", "directory", "filepad_file", "compress", "metadata")

    def run_task(self, fw_spec):
        paths = self["paths"]
        if isinstance(paths, list):
            paths = [os.path.abspath(p) for p in paths]
        else:
            directory = os.path.abspath(self.get("directory", "."))
            paths = sorted(os.path.abspath(p) for p in glob.glob(f"{directory}/{paths}"))
        identifiers = self.get("identifiers", paths)
        if not isinstance(identifiers, list) or len(identifiers) != len(paths):
            raise TaskError(
                f"AddFilesTask: {len(paths)} path(s) but identifiers "
                f"{identifiers!r:.80}; give one identifier per path"
            )
        with _opened(self) as fpad:
            for path, identifier in zip(paths, identifiers):
                fpad.add_file(
                    path,
                    identifier=identifier,
                    metadata=self.get("metadata"),
                    compress=self.get("compress", True),
                )


def _write(fpad, doc, dest_dir, file_name, fw_spec, task):
    path = writable_path(os.path.join(dest_dir, file_name), fw_spec)
    try:
        fpad.save_doc(doc, path)
    except OSError as exc:
        raise TaskError(f"{task}: cannot write {path}: {exc.strerror or exc}") from None


class GetFilesTask(FiretaskBase):
    """Write the files ``identifiers`` into ``dest_dir`` (default: the launch directory),
    under their original names or ``new_file_names``."""

    _fw_name = "GetFilesTask"
    required_params = ("identifiers",)
    optional_params = ("filepad_file", "dest_dir", "new_file_names")

    def run_task(self, fw_spec):
        dest_dir = self.get("dest_dir") or os.path.abspath(".")
        new_names = _names(self, "new_file_names")
        with _opened(self) as fpad:
            for i, identifier in enumerate(_names(self, "identifiers")):
                found = fpad.find({"identifier": identifier})
                if not found:
                    raise TaskError(
                        f"GetFilesTask: no file {identifier!r} in the FilePad "
                        f"({fpad.describe()}); was it added to this store?"
                    )
                name = new_names[i] if new_names else found[0]["original_file_name"]
                _write(fpad, found[0], dest_dir, name, fw_spec, "GetFilesTask")


def _arrow_to_dot(query):
    """FireWorks' ``metadata->key`` spelling of the nested field ``metadata.key``."""
    if isinstance(query, dict):
        return {k.replace("->", ".") if isinstance(k, str) else k: _arrow_to_dot(v) for k, v in query.items()}
    if isinstance(query, list):
        return [_arrow_to_dot(v) for v in query]
    return query


class GetFilesByQueryTask(FiretaskBase):
    """Write the files whose docs match ``query`` (``metadata->key`` for nested fields) into
    ``dest_dir``; options as in FireWorks (sort, limit, refusing empty results and two files
    landing on one name, a ``.meta.yaml`` of each file's metadata)."""

    _fw_name = "GetFilesByQueryTask"
    required_params = ("query",)
    optional_params = (
        "dest_dir",
        "filepad_file",
        "fizzle_degenerate_file_name",
        "fizzle_empty_result",
        "limit",
        "meta_file",
        "meta_file_suffix",
        "new_file_names",
        "sort_direction",
        "sort_key",
    )

    def run_task(self, fw_spec):
        query = self.get("query") or {}
        if not isinstance(query, dict):
            raise TaskError(f"GetFilesByQueryTask: 'query' must be a mapping, got {query!r:.60}")
        query = _arrow_to_dot(query)
        with _opened(self) as fpad:
            docs = fpad.find(query, self.get("sort_key"), self.get("sort_direction", -1))
            if self.get("fizzle_empty_result", True) and not docs:
                raise TaskValueError(
                    f"GetFilesByQueryTask: Query yielded empty result! "
                    f"(query: {json.dumps(query)}); set fizzle_empty_result: false "
                    "to accept none"
                )
            limit = self.get("limit")
            self._write_all(fpad, docs[:limit] if limit else docs, len(docs), query, fw_spec)

    def _write_all(self, fpad, docs, total, query, fw_spec):
        dest_dir = self.get("dest_dir") or os.path.abspath(".")
        new_names = _names(self, "new_file_names")
        used = set()
        for i, doc in enumerate(docs):
            name = new_names[i] if new_names else doc.get("original_file_name")
            if not name:
                raise TaskError(
                    f"GetFilesByQueryTask: file {doc.get('identifier')!r} has no "
                    "original file name (added as contents); give new_file_names"
                )
            if self.get("fizzle_degenerate_file_name", True) and name in used:
                raise TaskValueError(
                    f"GetFilesByQueryTask: The local file name {name} is used a "
                    f"second time by result {i}/{total}! (query: {json.dumps(query)}); "
                    "sort and limit the query, or set fizzle_degenerate_file_name: false"
                )
            used.add(name)
            _write(fpad, doc, dest_dir, name, fw_spec, "GetFilesByQueryTask")
            if self.get("meta_file", False):
                self._write_meta(doc, dest_dir, name + self.get("meta_file_suffix", ".meta.yaml"), fw_spec)

    def _write_meta(self, doc, dest_dir, name, fw_spec):
        from ruamel.yaml import YAML

        path = writable_path(os.path.join(dest_dir, name), fw_spec)
        with open(path, "w", encoding="utf-8") as f:
            YAML().dump(doc.get("metadata"), f)


class DeleteFilesTask(FiretaskBase):
    """Remove the files ``identifiers`` from the FilePad (missing ones only log a warning)."""

    _fw_name = "DeleteFilesTask"
    required_params = ("identifiers",)
    optional_params = ("filepad_file",)

    def run_task(self, fw_spec):
        with _opened(self) as fpad:
            for identifier in _names(self, "identifiers"):
                fpad.delete_file(identifier)
