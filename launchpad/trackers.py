"""``_trackers``: the last lines of a running firework's files, kept on its launch.

FireWorks' ``Tracker`` (same arguments, same dict form, same ``str``), so a
spec written for FireWorks tracks the same files here. The rocket reads the
tails at each heartbeat and at the end; the LaunchPad only stores what it is
given, so the store never reads a compute node's files.
"""

import collections
import importlib
import os
import zlib

from .errors import InvalidArgumentError
from .serializable import FWSerializable

DEFAULT_LINES = 25  # FireWorks' TRACKER_LINES
MAX_LINES = 1000  # FireWorks' Tracker.MAX_TRACKER_LINES
_BLOCK = 8192
# monty's zpath order: the plain file first, then its compressed forms.
_ZIPPED = ((".gz", "gzip"), (".GZ", "gzip"), (".bz2", "bz2"), (".BZ2", "bz2"), (".z", "gzip"), (".Z", "gzip"))


class Tracker(FWSerializable):
    """A file whose last ``nlines`` lines are shown while and after the firework runs."""

    MAX_TRACKER_LINES = MAX_LINES

    def __init__(self, filename, nlines=DEFAULT_LINES, content="", allow_zipped=False):
        if not isinstance(filename, str) or not filename:
            raise InvalidArgumentError(f"a tracker needs a file name, got {filename!r}")
        if isinstance(nlines, bool) or not isinstance(nlines, int) or nlines < 1:
            raise InvalidArgumentError(
                f"tracker {filename}: nlines must be a positive whole number, got {nlines!r}"
            )
        if nlines > MAX_LINES:
            raise InvalidArgumentError(
                f"tracker {filename}: at most {MAX_LINES} lines can be tracked; you asked for {nlines}"
            )
        self.filename, self.nlines = filename, nlines
        self.content, self.allow_zipped = content or "", bool(allow_zipped)

    def track_file(self, launch_dir=None):
        """Read the file's tail into ``content``; a missing file keeps what was read before
        (a file deleted at the end still shows its last lines)."""
        path = self.filename
        if launch_dir and not os.path.isabs(path):
            path = os.path.join(launch_dir, path)
        lines = read_tail(path, self.nlines, self.allow_zipped)
        if lines is not None:
            self.content = "\n".join(lines)
        return self.content

    def to_dict(self):
        d = {"filename": self.filename, "nlines": self.nlines, "allow_zipped": self.allow_zipped}
        if self.content:
            d["content"] = self.content
        return d

    @classmethod
    def from_dict(cls, m_dict):
        if not isinstance(m_dict, dict) or "filename" not in m_dict:
            raise InvalidArgumentError(f"a tracker is a mapping with a filename, got {m_dict!r:.80}")
        return cls(
            m_dict["filename"],
            m_dict.get("nlines", DEFAULT_LINES),
            m_dict.get("content", ""),
            m_dict.get("allow_zipped", False),
        )

    def __str__(self):
        return f"### Filename: {self.filename}\n{self.content}"

    def __repr__(self):
        return f"Tracker({self.filename!r}, nlines={self.nlines})"


def trackers_of(spec):
    """The spec's ``_trackers`` as Tracker objects; a malformed entry says which one."""
    entries = spec.get("_trackers") or []
    if not isinstance(entries, (list, tuple)):
        raise InvalidArgumentError(
            "_trackers must be a list of trackers ({filename: ..., nlines: ...} mappings)"
        )
    return [t if isinstance(t, Tracker) else Tracker.from_dict(t) for t in entries]


def read_tail(path, nlines, allow_zipped=False):
    """The last ``nlines`` lines of ``path`` (without line ends), None if it does not exist.

    A plain file is read backwards from its end in blocks, so a tracker on a
    multi-gigabyte log costs a few kilobytes per heartbeat. A compressed file
    can only be read from its start.
    """
    found, opener = _existing(path, allow_zipped)
    if found is None:
        return None
    try:
        if opener is None:
            return _tail_plain(found, nlines)
        return _tail_stream(found, opener, nlines)
    except (OSError, EOFError, zlib.error) as exc:  # unreadable, or a damaged archive
        return [f"(cannot read {found}: {exc})"]


def _existing(path, allow_zipped):
    if os.path.isfile(path):
        return path, None
    if allow_zipped:
        for suffix, module in _ZIPPED:
            if os.path.isfile(path + suffix):  # imported here: lpad's start-up never pays for it
                return path + suffix, importlib.import_module(module).open
    return None, None


def _tail_plain(path, nlines):
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        data, pos = b"", end
        # One newline more than the lines wanted (the file's last one ends the last line).
        while pos > 0 and data.count(b"\n") <= nlines:
            step = min(_BLOCK, pos)
            pos -= step
            fh.seek(pos)
            data = fh.read(step) + data
    return _last_lines(data, nlines)


def _tail_stream(path, opener, nlines):
    with opener(path, "rb") as fh:
        kept = collections.deque(fh, maxlen=nlines)
    return _last_lines(b"".join(kept), nlines)


def _last_lines(data, nlines):
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines[-1] == "":  # the file's last line end, not an empty line
        lines.pop()
    return [line.rstrip("\r") for line in lines[-nlines:]]
