"""The one interface the FilePad's storage implements, on every store backend.

A file is a metadata document (FireWorks' fields: identifier, gfs_id,
original_file_name, original_file_path, metadata, compressed) plus its
contents, kept as a sequence of byte blocks. Contents go in and out as
iterators of blocks, so a file of gigabytes never sits whole in memory; the
FilePad (``launchpad.filepad``) compresses and decompresses those blocks.
"""

from abc import ABC, abstractmethod

CHUNK_BYTES = 1 << 20  # what one stored block holds at most


class FileBackend(ABC):
    """Files in a store; a file becomes visible only once all of it is stored."""

    @abstractmethod
    def new_id(self):
        """A fresh gfs_id (24 hex digits, as a GridFS ObjectId)."""

    @abstractmethod
    def put(self, doc, blocks):
        """Store ``blocks`` and ``doc`` (which holds its gfs_id and identifier) as one file.

        Returns the stored doc; if another file already holds the identifier,
        stores nothing and returns that file's doc.
        """

    @abstractmethod
    def find(self, query=None, sort=None):
        """The docs of the files matching a Mongo-style ``query``, in ``sort`` order
        (``[(field, 1 | -1)]``; default: the order they were added)."""

    def find_one(self, query):
        found = self.find(query)
        return found[0] if found else None

    @abstractmethod
    def read(self, gfs_id):
        """The stored blocks of a file, in order (an iterator: read as you go)."""

    @abstractmethod
    def replace(self, doc, new_id, blocks, compressed):
        """Give the file of ``doc`` new contents under ``new_id``; the old ones go.
        Returns False if the file is gone meanwhile (nothing is then stored)."""

    @abstractmethod
    def delete(self, gfs_id):
        """Remove a file's doc and contents (the doc first: no doc points at nothing)."""

    @abstractmethod
    def count(self, query=None):
        """How many files match."""

    @abstractmethod
    def reset(self):
        """Remove every file."""

    @abstractmethod
    def describe(self):
        """Where the files live, without credentials."""


def rechunk(blocks, size=CHUNK_BYTES):
    """Blocks of exactly ``size`` bytes (the last one shorter), whatever ``blocks`` held."""
    buffer = bytearray()
    for block in blocks:
        buffer += block
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
