"""``_background_tasks``: Firetasks a rocket repeats beside a firework's own tasks.

FireWorks' ``BackgroundTask`` (``fireworks.features.background_task``): same
arguments and dict form, so a spec written for FireWorks runs here. This
module only describes them; the rocket (rocket/background.py) runs them.
"""

from .errors import InvalidArgumentError
from .firetask import load_task
from .serializable import OwnDatesSerializable


class BackgroundTask(OwnDatesSerializable):
    """``tasks`` run every ``sleep_time`` seconds while the firework runs, at most
    ``num_launches`` times (0: until it ends), and once more at its end if
    ``run_on_finish``."""

    _fw_name = "BackgroundTask"

    def __init__(self, tasks, num_launches=0, sleep_time=60, run_on_finish=False):
        self.tasks = list(tasks) if isinstance(tasks, (list, tuple)) else [tasks]
        if not self.tasks:
            raise InvalidArgumentError("a BackgroundTask needs at least one Firetask")
        if isinstance(num_launches, bool) or not isinstance(num_launches, int) or num_launches < 0:
            raise InvalidArgumentError(
                f"BackgroundTask num_launches must be a whole number (0: no limit), got {num_launches!r}"
            )
        if isinstance(sleep_time, bool) or not isinstance(sleep_time, (int, float)) or sleep_time < 0:
            raise InvalidArgumentError(
                f"BackgroundTask sleep_time must be seconds (>= 0), got {sleep_time!r}"
            )
        self.num_launches, self.sleep_time = num_launches, sleep_time
        self.run_on_finish = bool(run_on_finish)

    def to_dict(self):
        return {
            "_fw_name": self._fw_name,
            "tasks": [t.to_dict() if hasattr(t, "to_dict") else t for t in self.tasks],
            "num_launches": self.num_launches,
            "sleep_time": self.sleep_time,
            "run_on_finish": self.run_on_finish,
        }

    @classmethod
    def from_dict(cls, m_dict):
        if not isinstance(m_dict, dict) or "tasks" not in m_dict:
            raise InvalidArgumentError(
                f"a background task is a mapping with a tasks list, got {m_dict!r:.80}"
            )
        tasks = m_dict["tasks"]
        tasks = tasks if isinstance(tasks, (list, tuple)) else [tasks]
        return cls(
            [t if hasattr(t, "run_task") else load_task(t) for t in tasks],
            m_dict.get("num_launches", 0),
            m_dict.get("sleep_time", 60),
            m_dict.get("run_on_finish", False),
        )

    def __repr__(self):
        names = ", ".join(getattr(t, "fw_name", type(t).__name__) for t in self.tasks)
        return f"BackgroundTask([{names}], every {self.sleep_time} s)"


def background_tasks_of(spec):
    """The spec's ``_background_tasks`` as BackgroundTask objects (tasks loaded)."""
    entries = spec.get("_background_tasks") or []
    if not isinstance(entries, (list, tuple)):
        raise InvalidArgumentError("_background_tasks must be a list of BackgroundTask mappings")
    return [b if isinstance(b, BackgroundTask) else BackgroundTask.from_dict(b) for b in entries]
