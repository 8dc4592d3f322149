"""FWAction's import paths: ``launchpad.actions`` as before, and FireWorks' names.

FWAction is plain data in ``models`` (it holds workflows, and launches hold it:
one recursive family, one module); the spec edits it asks for are in
``spec_mods``. Both are re-exported here, where ported code imports them from.
"""

from .models import FWAction
from .spec_mods import MOD_OPERATORS, apply_action_to_spec, apply_mod

__all__ = ["FWAction", "MOD_OPERATORS", "apply_action_to_spec", "apply_mod"]
