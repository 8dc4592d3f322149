"""Duplicate finders (a spec's ``_dupefinder``): FireWorks' ``DupeFinderBase`` and ``DupeFinderExact``.

A firework whose spec names a dupe finder is compared, when a rocket checks it
out, with the fireworks the finder's ``query(spec)`` selects (and that
``verify(spec1, spec2)`` accepts, when the finder defines it). If one of them
has run or is running, the firework runs nothing and takes that run over
(launchpad/duplicates.py). Same names, methods and dict form as FireWorks, so
its specs and user subclasses work unchanged.
"""

from .serializable import SERIALIZABLE_CLASSES, FWSerializable


class DupeFinderBase(FWSerializable):
    """Subclass it and define ``query``, and ``verify`` when the query alone cannot tell.

    Give a subclass ``_fw_name`` or ``@explicit_serialize`` so the rocket's
    process finds it again from the spec (a module listed in
    ``$STARSHELL_USER_PACKAGES``, or any importable one for ``{{module.Class}}``).
    """

    def verify(self, spec1, spec2):
        """Whether two specs the query matched are duplicates; the default says it is not
        defined, and then every match of the query is a duplicate (as in FireWorks)."""
        raise NotImplementedError

    def query(self, spec):
        """A Mongo-style filter on fireworks (``{"spec.x": spec["x"]}``) selecting the
        candidates for duplicates of ``spec``; it runs on both stores."""
        raise NotImplementedError

    def to_dict(self):
        return {"_fw_name": self.fw_name}

    @classmethod
    def from_dict(cls, m_dict):
        return cls()

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __repr__(self):
        return f"{type(self).__name__}()"


class DupeFinderExact(DupeFinderBase):
    """Duplicates have exactly the same spec (``_tasks`` and ``_dupefinder`` included)."""

    _fw_name = "DupeFinderExact"

    def query(self, spec):
        # FireWorks' query, word for word in meaning: fireworks that ran, with this spec.
        # starshell's firework records have no launches list, and a missing field
        # passes $ne, so the launches are checked by launchpad/duplicates.py.
        return {"$and": [{"launches": {"$ne": []}}, {"spec": spec}]}


# The other names FireWorks writes it under: its old spaced name and its full class path.
for _alias in (
    "Dupe Finder Exact",
    "{{fireworks.user_objects.dupefinders.dupefinder_exact.DupeFinderExact}}",
):
    SERIALIZABLE_CLASSES[_alias] = DupeFinderExact


def dupefinder_of(spec):
    """The spec's ``_dupefinder`` as an object (a dict is loaded by its ``_fw_name``), or None."""
    finder = (spec or {}).get("_dupefinder")
    if finder is None or isinstance(finder, DupeFinderBase):
        return finder
    from .serialization import load_object

    return load_object(finder)
