"""Task functions for make_db.py: run by FireWorks' PyTask inside FireWorks' venv.

They return FireWorks' own FWAction objects, so the database holds what
FireWorks writes for additions, detours and stored data.
"""

from fireworks import Firework, FWAction, ScriptTask


def grow(n):
    """Store data, pass a value on, and add one child firework (an addition)."""
    extra = Firework(ScriptTask.from_str("echo added"), name="added child", spec={"_category": "imported"})
    return FWAction(stored_data={"n": n, "square": n * n}, update_spec={"grown": n}, additions=[extra])


def detour():
    """Insert a firework between this one and its children (a detour)."""
    extra = Firework(ScriptTask.from_str("echo detour"), name="detour")
    return FWAction(stored_data={"detoured": True}, detours=[extra])


def fail(message):
    raise ValueError(message)
