"""Entry points of installed distributions, read the same way on every Python we support.

``importlib.metadata.entry_points(group=...)`` only exists from Python 3.10;
3.9 returns a dict of groups. Scanning every distribution costs a noticeable
part of a command's start-up, so callers ask only when they need plugins.
"""


def entry_points_in(group):
    """The installed entry points of ``group``, as a list."""
    from importlib.metadata import entry_points

    found = entry_points()
    if hasattr(found, "select"):
        return list(found.select(group=group))
    return list(found.get(group, []))  # pragma: no cover - Python 3.9
