"""MongoDB errors injected into the pymongo layer, on mongomock.

``make_flaky(store, faults)`` wraps the store's collections so that calls
raise AutoReconnect or ServerSelectionTimeoutError as ``faults`` decides:
``before`` the operation (the request never reached the server) or
``after`` it (the server applied it but the reply was lost, the case that
makes a blind retry apply a write twice).
"""

import random

from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

WRITES = (
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "find_one_and_update",
    "delete_one",
    "delete_many",
)
READS = ("find", "find_one", "count_documents", "aggregate")
ERRORS = (AutoReconnect, ServerSelectionTimeoutError)


class Faults:
    """Decides which calls fail: a script of ``(method, when)`` first, then random ones."""

    def __init__(self, rate=0.0, seed=0, when=("before", "after"), max_in_a_row=3, script=()):
        self.rate = rate
        self.rng = random.Random(seed)
        self.when = when
        self.max_in_a_row = max_in_a_row
        self.script = list(script)
        self.in_a_row = 0
        self.injected = []  # (collection, method, when, error name)
        self.always = None  # a method name (or "*") that always fails

    def decide(self, collection, method):
        if self.always in (method, "*"):
            return "before"
        for i, (name, when) in enumerate(self.script):
            if name == method or name == f"{collection}.{method}":
                del self.script[i]
                return when
        if self.rate and self.in_a_row < self.max_in_a_row and self.rng.random() < self.rate:
            self.in_a_row += 1
            return self.rng.choice(self.when) if method in WRITES else "before"
        self.in_a_row = 0
        return None

    def error(self, collection, method, when):
        cls = self.rng.choice(ERRORS)
        self.injected.append((collection, method, when, cls.__name__))
        return cls(f"injected: connection lost during {collection}.{method} ({when})")


class FlakyCollection:
    def __init__(self, inner, name, faults):
        self._inner, self._name, self._faults = inner, name, faults

    def __getattr__(self, attr):
        target = getattr(self._inner, attr)
        if attr not in WRITES + READS:
            return target

        def call(*args, **kwargs):
            when = self._faults.decide(self._name, attr)
            if when == "before":
                raise self._faults.error(self._name, attr, when)
            result = target(*args, **kwargs)
            if when == "after":
                if attr in READS:
                    result = list(result) if attr in ("find", "aggregate") else result
                raise self._faults.error(self._name, attr, when)
            return result

        return call


def make_flaky(store, faults):
    """Wrap ``store``'s collections; its retries then sleep into ``store.slept``."""
    for name in ("fireworks", "workflows", "launches", "counters"):
        setattr(store, name, FlakyCollection(getattr(store, name), name, faults))
    store.slept = []
    store._sleep = store.slept.append
    return store
