"""A rapidfire rocket's step between two fireworks: the result of one and the claim of
the next, in one store transaction (issue 14). A no-op firework then takes one write
lock instead of two; on SQLite that is two statements (BEGIN, COMMIT) fewer per
launch, and among many rockets one hand-over of the lock instead of two.
"""

from .errors import StaleLaunchError


def finish_and_checkout(store, complete, checkout=None):
    """``complete()`` (a ``complete_launch``), then ``checkout()`` (a ``claim_to_run``), all
    or nothing where the store has transactions. Returns ``(fw, launch_id, stale)``: the
    claim as ``claim_to_run`` returns it (``(None, None)`` without ``checkout``), and the
    message of the StaleLaunchError when the finished launch had been fenced (its result
    is kept on the launch, not applied), else None: the claim stands either way."""
    stale = None
    with store.transaction():
        try:
            complete()
        except StaleLaunchError as exc:
            stale = str(exc)
        fw, launch_id = checkout() if checkout is not None else (None, None)
    return fw, launch_id, stale
