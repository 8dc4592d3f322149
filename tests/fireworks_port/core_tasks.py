"""The Firetasks of FireWorks' fireworks/core/tests/tasks.py, written as a FireWorks
user writes tasks: FireWorks' base class and decorator, starshell's imports.

The counters are class attributes, as FireWorks' are: rockets run in this process,
so a test reads how often a task ran.
"""

import threading

from launchpad import FiretaskBase, Firework, FWAction, explicit_serialize


class SerializableException(Exception):
    """An exception that knows its own dict: the rocket stores it as ``_details``."""

    def __init__(self, exc_details):
        super().__init__(exc_details)
        self.exc_details = exc_details

    def to_dict(self):
        return self.exc_details


@explicit_serialize
class ExceptionTestTask(FiretaskBase):
    """Fails with a SerializableException unless the spec says ``skip_exception``."""

    exec_counter = 0

    def run_task(self, fw_spec):
        ExceptionTestTask.exec_counter += 1
        if not fw_spec.get("skip_exception", False):
            raise SerializableException(self["exc_details"])


@explicit_serialize
class ExecutionCounterTask(FiretaskBase):
    exec_counter = 0

    def run_task(self, fw_spec):
        ExecutionCounterTask.exec_counter += 1


@explicit_serialize
class TodictErrorTask(FiretaskBase):
    """A task that cannot be serialized: an FWAction that adds it cannot be stored."""

    def to_dict(self):
        raise RuntimeError("to_dict error")

    def run_task(self, fw_spec):
        return FWAction()


@explicit_serialize
class MalformedAdditionTask(FiretaskBase):
    """Succeeds, but returns an addition the LaunchPad cannot store."""

    def run_task(self, fw_spec):
        return FWAction(additions=Firework(TodictErrorTask()))


@explicit_serialize
class SlowAdditionTask(FiretaskBase):
    """Passes ``update_spec`` to its children once the test sets ``release`` (FireWorks'
    sleeps 5 s instead); ``running`` tells the test it has started."""

    running = threading.Event()
    release = threading.Event()

    def run_task(self, fw_spec):
        SlowAdditionTask.running.set()
        SlowAdditionTask.release.wait(fw_spec.get("pause", 10))
        return FWAction(update_spec={"SlowAdditionTask": 1})


@explicit_serialize
class FastUpdateTask(FiretaskBase):
    """The second parent of WFLockTest: updates the child's spec, or fails on request."""

    def run_task(self, fw_spec):
        if fw_spec.get("fizzle", False):
            raise ValueError("Testing; this error is normal.")
        return FWAction(update_spec={"WaitWFLockTask": 1})


@explicit_serialize
class DoNothingTask(FiretaskBase):
    def run_task(self, fw_spec):
        pass


@explicit_serialize
class DetoursTask(FiretaskBase):
    """``n_detours`` detour fireworks at once, each carrying ``data_per_detour``."""

    optional_params = ["n_detours", "data_per_detour"]

    def run_task(self, fw_spec):
        data = self.get("data_per_detour", None)
        count = self.get("n_detours", 10)
        return FWAction(detours=[Firework([DoNothingTask(data=data)]) for _ in range(count)])
