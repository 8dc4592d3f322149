"""starshell's LaunchPad: workflows, their store, and the ``lpad`` command.

FireWorks users port scripts by changing imports::

    from launchpad import LaunchPad, Firework, Workflow, FWAction, FiretaskBase
"""

from .actions import FWAction
from .errors import StarshellError
from .firetask import FiretaskBase, explicit_serialize, load_task, register_task
from .launchpad import LaunchPad
from .models import Firework, Launch, Workflow
from .states import State
from .stores import WorkerFilter

# FireWorks' name for the base class, kept so ported imports keep working.
FireTaskBase = FiretaskBase


_LAZY_TASKS = ("ScriptTask", "PyTask", "FileWriteTask", "FileDeleteTask", "FileTransferTask",
               "CompressDirTask", "DecompressDirTask", "ArchiveDirTask", "TemplateWriterTask")


def __getattr__(name):
    """Built-in tasks (ScriptTask, PyTask, ...) load on first use, not at import.

    Only the listed names trigger an import: ``from . import x`` inside the
    package also asks this hook, and must not recurse into it.
    """
    if name in _LAZY_TASKS:
        import importlib
        return getattr(importlib.import_module(__name__ + ".tasks"), name)
    raise AttributeError(f"module 'launchpad' has no attribute {name!r}")


__all__ = ["LaunchPad", "Firework", "Workflow", "Launch", "FWAction", "FiretaskBase",
           "FireTaskBase", "explicit_serialize", "register_task", "load_task", "State",
           "StarshellError", "WorkerFilter"]
