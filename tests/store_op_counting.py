"""MongoDB round trips counted in-process: the outermost calls of mongomock's
collection methods (its ``find_one`` calls ``find``: one trip, as on a server).

Standard library only, so the tests, bench/starshell_side.py and
bench/fireworks_side.py (run in FireWorks' virtualenv) all count the same way.
"""

import functools
import threading

COLLECTION_METHODS = (
    "find",
    "find_one",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "update_one",
    "update_many",
    "insert_one",
    "insert_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "estimated_document_count",
    "aggregate",
    "distinct",
    "bulk_write",
)


def count_outermost_calls(collection_cls, on_call, install=setattr):
    """Wrap ``collection_cls``'s methods so each outermost call calls
    ``on_call(collection, method_name)``; nesting is tracked per thread (a
    rocket's heartbeat thread calls too). ``install``: pass pytest's
    ``monkeypatch.setattr`` to undo the wrapping after a test."""
    local = threading.local()
    for name in COLLECTION_METHODS:
        original = getattr(collection_cls, name, None)
        if original is None:
            continue

        @functools.wraps(original)
        def counted(self, *args, __original=original, __name=name, **kwargs):
            depth = getattr(local, "depth", 0)
            if depth == 0:
                on_call(self, __name)
            local.depth = depth + 1
            try:
                return __original(self, *args, **kwargs)
            finally:
                local.depth = depth

        install(collection_cls, name, counted)
