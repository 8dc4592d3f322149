"""The Firetasks FireWorks' own tests use (fireworks/tests/tasks.py, the helper tasks
of mongo_tests.py, and the two fw_tutorials tasks mongo_tests.py imports), written
as a FireWorks user writes tasks: FireWorks' base class and decorator, starshell's
imports. Named ``{{module.Class}}`` by @explicit_serialize, so they never take
over the tutorials' short names ("Addition Task", ...) from examples/tutorial_tasks.py.
"""

from launchpad import FiretaskBase, Firework, FWAction, ScriptTask, Workflow, explicit_serialize


def throw_error(msg):
    """A PyTask function that fails, for the fizzle/defuse/archive scenarios."""
    raise ValueError(msg)


# -- fireworks/tests/tasks.py -------------------------------------------------------------
@explicit_serialize
class DummyFWEnvTask(FiretaskBase):
    """Stores the worker's ``env["hello"]`` as the rocket passes it in ``_fw_env``."""

    def run_task(self, fw_spec):
        return FWAction(stored_data={"data": fw_spec["_fw_env"].get("hello", "hello")})


@explicit_serialize
class DummyJobPassTask(FiretaskBase):
    """Stores the ``_job_info`` its parents passed on."""

    def run_task(self, fw_spec):
        return FWAction(stored_data={"data": fw_spec["_job_info"]})


@explicit_serialize
class DummyLPTask(FiretaskBase):
    """Stores what ``_add_launchpad_and_fw_id`` gives a task: its fw_id and the LaunchPad."""

    def run_task(self, fw_spec):
        return FWAction(stored_data={"fw_id": self.fw_id, "host": self.launchpad.host})


# -- the tasks mongo_tests.py defines ----------------------------------------------------
@explicit_serialize
class MultipleDetourTask(FiretaskBase):
    """Three detours at once: each goes between this firework and its children."""

    def run_task(self, fw_spec):
        detours = [Firework(ScriptTask.from_str(f'echo "detour {n}"')) for n in (1, 2, 3)]
        return FWAction(detours=detours)


@explicit_serialize
class UpdateSpecTask(FiretaskBase):
    """Sets ``dummy1`` in the children's spec and adds one firework."""

    def run_task(self, fw_spec):
        return FWAction(update_spec={"dummy1": 1}, additions=[Firework(ScriptTask.from_str("echo added"))])


@explicit_serialize
class ModSpecTask(FiretaskBase):
    """Pushes ``True`` onto the children's ``dummy2``."""

    def run_task(self, fw_spec):
        return FWAction(mod_spec=[{"_push": {"dummy2": True}}])


@explicit_serialize
class SummationTask(FiretaskBase):
    """Sums the spec values named in ``inputs`` into the children's ``output`` key."""

    required_params = ["inputs", "output"]

    def run_task(self, fw_spec):
        return FWAction(update_spec={self["output"]: sum(fw_spec[key] for key in self["inputs"])})


@explicit_serialize
class AppendWFActionTask(FiretaskBase):
    """Appends a one-firework workflow as a detour below ``parents`` through ``append_wfs``."""

    required_params = ["fw_name", "tag", "val", "inputs", "output", "parents"]

    def run_task(self, fw_spec):
        summing = Firework(
            name=self["fw_name"], tasks=[SummationTask(inputs=self["inputs"], output=self["output"])]
        )
        appended = {"detour": True, "workflow": Workflow(fireworks=[summing]), "parents": self["parents"]}
        return FWAction(append_wfs=appended, update_spec={self["tag"]: self["val"]})


# -- the fw_tutorials tasks mongo_tests.py imports ---------------------------------------
@explicit_serialize
class AdditionTask(FiretaskBase):
    """The firetask tutorial's task: sum ``input_array``, store it, push it to the children."""

    def run_task(self, fw_spec):
        total = sum(fw_spec["input_array"])
        return FWAction(stored_data={"sum": total}, mod_spec=[{"_push": {"input_array": total}}])


@explicit_serialize
class FibonacciAdderTask(FiretaskBase):
    """The dynamic-workflow tutorial's task: add the next number's firework below
    ``stop_point``, and return an empty FWAction at it."""

    def run_task(self, fw_spec):
        smaller, larger, stop = fw_spec["smaller"], fw_spec["larger"], fw_spec["stop_point"]
        following = smaller + larger
        if following >= stop:
            return FWAction()
        successor = Firework(
            FibonacciAdderTask(), {"smaller": larger, "larger": following, "stop_point": stop}
        )
        return FWAction(stored_data={"next_fibnum": following}, additions=successor)
