"""starshell's LaunchPad: workflows, their store, and the ``lpad`` command.

FireWorks users port scripts by changing imports::

    from launchpad import LaunchPad, Firework, Workflow, FWAction, FiretaskBase

(the import map is in docs/fireworks.md).
"""

import importlib

# Every public name loads on first use, not at import: `lpad` and `rlaunch`
# import this package first, and each command should pay only for the
# modules it runs (see BENCHMARKS.md, "CLI start-up").
_LAZY = {
    "FWAction": "actions",
    "StarshellError": "errors",
    "FiretaskBase": "firetask",
    "FireTaskBase": "firetask",  # FireWorks' name for the base class, for ported imports
    "explicit_serialize": "serialization",
    "load_task": "firetask",
    "register_task": "firetask",
    "LaunchPad": "launchpad",
    "Firework": "models",
    "Launch": "models",
    "Workflow": "models",
    "State": "states",
    "WorkerFilter": "stores",
    "FWorker": "worker",
    "env_chk": "worker",  # atomate's helper over the worker's _fw_env
    "FilePad": "filepad",  # files kept in the store (FireWorks' FilePad)
    "Tracker": "trackers",
    "BackgroundTask": "background_task",  # spec objects _trackers, ...
    "FWStats": "stats",  # fireworks.features.stats
    "DupeFinderBase": "dupefinder",  # fireworks.features.dupefinder
    "DupeFinderExact": "dupefinder",  # fireworks.user_objects.dupefinders.dupefinder_exact
    "plot_wf": "graph",
    "wf_to_graph": "graph",  # fireworks.utilities.visualize's names
    # FireWorks' fw_serializers names (also in launchpad.serialization)
    **dict.fromkeys(
        (
            "FWSerializable",
            "load_object",
            "load_object_from_file",
            "recursive_serialize",
            "recursive_deserialize",
            "reconstitute_dates",
            "serialize_fw",
            "FWFormatError",
            "FWSerializationError",
        ),
        "serialization",
    ),
    **dict.fromkeys(
        (
            "ScriptTask",
            "PyTask",
            "FileWriteTask",
            "FileDeleteTask",
            "FileTransferTask",
            "CompressDirTask",
            "DecompressDirTask",
            "ArchiveDirTask",
            "TemplateWriterTask",
        ),
        "tasks",
    ),
}


def __getattr__(name):
    """Load a public name's module when the name is first asked for.

    Only the listed names trigger an import: ``from . import x`` inside the
    package also asks this hook, and must not recurse into it.
    """
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'launchpad' has no attribute {name!r}")
    attr = "FiretaskBase" if name == "FireTaskBase" else name
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "LaunchPad",
    "Firework",
    "Workflow",
    "Launch",
    "FWAction",
    "FiretaskBase",
    "FireTaskBase",
    "explicit_serialize",
    "register_task",
    "load_task",
    "State",
    "StarshellError",
    "WorkerFilter",
    "FWorker",
    "env_chk",
    "FWSerializable",
    "load_object",
    "load_object_from_file",
    "recursive_serialize",
    "recursive_deserialize",
    "reconstitute_dates",
    "serialize_fw",
    "FWFormatError",
    "FWSerializationError",
    "FilePad",
    "plot_wf",
    "wf_to_graph",
    "Tracker",
    "BackgroundTask",
    "FWStats",
    "DupeFinderBase",
    "DupeFinderExact",
]
