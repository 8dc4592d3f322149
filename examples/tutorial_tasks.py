"""Firetasks for FireWorks' tutorial files and starshell's dynamic examples.

FireWorks' tutorials name their tasks ``Addition Task``, ``Add and Modify
Task``, ``Fibonacci Adder Task`` and ``Print Job Task``; defining classes
with those ``_fw_name``s is all a user package needs so that the tutorial
files load and run. Register this module the way any user package is::

    export PYTHONPATH=$PWD/examples STARSHELL_USER_PACKAGES=tutorial_tasks

The map-reduce tasks at the end serve ``examples/map_reduce.yaml``.
"""

from launchpad import FiretaskBase, Firework, FWAction, Workflow


def _numbers(fw_spec, key="input_array"):
    values = fw_spec.get(key, [])
    if not isinstance(values, list):
        raise ValueError(f"spec key {key!r} must be a list of numbers, got {values!r:.80}")
    return values


class AdditionTask(FiretaskBase):
    """Sum the spec's ``input_array`` and keep the result on the launch."""

    _fw_name = "Addition Task"

    def run_task(self, fw_spec):
        total = sum(_numbers(fw_spec))
        print(f"The sum of {fw_spec.get('input_array', [])} is: {total}")
        return FWAction(stored_data={"sum": total})


class AddModifyTask(FiretaskBase):
    """Sum ``input_array`` and hand the sum on: each child gets it pushed onto its own ``input_array``."""

    _fw_name = "Add and Modify Task"

    def run_task(self, fw_spec):
        total = sum(_numbers(fw_spec))
        print(f"The sum of {fw_spec.get('input_array', [])} is: {total}")
        return FWAction(stored_data={"sum": total}, mod_spec=[{"_push": {"input_array": total}}])


class FibonacciAdderTask(FiretaskBase):
    """Compute the next Fibonacci number; while below ``stop_point``, add a firework for the one after.

    The workflow grows itself: each firework appends its successor with
    ``FWAction(additions=...)``, so nobody needs to know in advance how many
    steps there will be.
    """

    _fw_name = "Fibonacci Adder Task"

    def run_task(self, fw_spec):
        smaller, larger = fw_spec["smaller"], fw_spec["larger"]
        stop_point = fw_spec["stop_point"]
        following = smaller + larger
        print(f"The next Fibonacci number is: {following}")
        if following >= stop_point:
            print(f"Reached the stop point {stop_point}; the workflow ends here.")
            return FWAction(stored_data={"next_fibnum": following})
        successor = Firework(
            FibonacciAdderTask(),
            name=f"Fibonacci {following}",
            spec={"smaller": larger, "larger": following, "stop_point": stop_point},
        )
        return FWAction(stored_data={"next_fibnum": following}, additions=successor)


class PrintJobTask(FiretaskBase):
    """Report the parent job that ``_pass_job_info`` told this firework about."""

    _fw_name = "Print Job Task"

    def run_task(self, fw_spec):
        jobs = fw_spec.get("_job_info") or []
        if not jobs:
            print("No parent passed its job info (set _pass_job_info: true on the parent).")
            return FWAction(stored_data={"previous_job": None})
        previous = jobs[-1]
        print(
            f"The previous job was {previous.get('name')!r} (firework {previous.get('fw_id')}), "
            f"run in {previous.get('launch_dir')}"
        )
        return FWAction(stored_data={"previous_job": previous})


# ---- map-reduce (examples/map_reduce.yaml) ----------------------------------


class SplitTask(FiretaskBase):
    """Fan out: one mapper firework per chunk of ``numbers``, inserted as a detour.

    The detour runs between this firework and its children, so the reducer
    (a child in the file) starts only once every mapper is done. The mappers
    form one detour workflow without links, so they run side by side.
    """

    _fw_name = "Split Task"
    optional_params = ("chunk_size",)

    def run_task(self, fw_spec):
        numbers = _numbers(fw_spec, "numbers")
        size = int(self.get("chunk_size", 2))
        if size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {size}")
        chunks = [numbers[i : i + size] for i in range(0, len(numbers), size)]
        mappers = [
            Firework(SquareSumTask(), name=f"map {i}", spec={"chunk": chunk})
            for i, chunk in enumerate(chunks)
        ]
        return FWAction(stored_data={"chunks": len(chunks)}, detours=Workflow(mappers, name="mappers"))


class SquareSumTask(FiretaskBase):
    """Map: the sum of squares of ``chunk``, pushed onto the children's ``partial_sums``."""

    _fw_name = "Square Sum Task"

    def run_task(self, fw_spec):
        partial = sum(x * x for x in _numbers(fw_spec, "chunk"))
        return FWAction(stored_data={"partial": partial}, mod_spec=[{"_push": {"partial_sums": partial}}])


class ReduceSumTask(FiretaskBase):
    """Reduce: add up the ``partial_sums`` the mappers pushed into this spec."""

    _fw_name = "Reduce Sum Task"

    def run_task(self, fw_spec):
        partials = _numbers(fw_spec, "partial_sums")
        total = sum(partials)
        print(f"{len(partials)} partial sums add up to {total}")
        return FWAction(stored_data={"total": total, "partials": len(partials)})
