"""FireWorks' ``lpad admin`` upkeep (tuneup, refresh, orphaned, maintain) as plain
functions over a LaunchPad, built on the store's own ``tuneup`` and the checker.

Refresh and orphaned reuse the checker's rules, scoped: what they repair is
exactly what ``lpad admin check --fix`` would, so the two never disagree.
"""

import time

from .checker import DEFAULT_GRACE_SECS, Checker

# FireWorks' lpad default for --maintain_interval (seconds).
MAINTAIN_INTERVAL = 3600
# A run silent this long is lost (lpad detect_lostruns' default, 4 hours).
LOST_RUN_SECS = 4 * 3600


class _ScopedChecker(Checker):
    """The checker with only the rules ``rules`` (names in checker.RULES), keeping problems
    of the workflows ``wf_ids`` (all if None): it repairs nothing else."""

    def __init__(self, launchpad, rules, wf_ids=None, **options):
        super().__init__(launchpad, **options)
        self.rules, self.wf_ids = frozenset(rules), wf_ids

    def wanted(self, rule):
        return rule in self.rules

    def scan(self, stages):
        checked, problems = super().scan(stages)
        return checked, [p for p in problems if self._in_scope(p)]

    def _in_scope(self, problem):
        if self.wf_ids is None:
            return True
        wf_id = problem.wf_id
        if wf_id is None and problem.fw_id is not None:
            doc = self.store.get_firework(int(problem.fw_id), fields=["wf_id"])
            wf_id = doc and doc.get("wf_id")
        return wf_id in self.wf_ids


def refresh(lp, fw_ids):
    """FireWorks' ``admin refresh``: recompute the derived state of the workflows
    holding ``fw_ids`` (waiting counts, READY/WAITING, one-sided links)."""
    wf_ids = set()
    for fw_id in fw_ids:
        wf_ids.add(lp.wf_id_of(fw_id))
    return _ScopedChecker(lp, ("link", "dependency"), wf_ids, fix=True, grace_secs=0).run()


def orphaned(lp, remove=False, grace_secs=DEFAULT_GRACE_SECS):
    """Fireworks whose workflow is gone, launches whose firework is gone, and
    empty workflows; ``remove`` deletes them (recent ones wait ``grace_secs``)."""
    rules = ("orphan_launch", "orphan_firework", "empty_workflow")
    return _ScopedChecker(lp, rules, fix=remove, grace_secs=grace_secs).run()


def unlock(lp, fw_ids):
    """FireWorks' workflow locks do not exist here: every change is one atomic
    store operation. Returns the workflow ids, after checking they exist."""
    return sorted({lp.wf_id_of(fw_id) for fw_id in fw_ids})


def maintain_once(lp, lost_after=LOST_RUN_SECS):
    """One round: tuneup, lost runs rerun, then the checker's safe repairs."""
    from .checker import check

    steps = lp.store.tuneup(full=False)
    launch_ids, fw_ids = lp.detect_lostruns(lost_after, rerun=True)
    report = check(lp, fix=True)
    return {
        "tuneup": steps,
        "lost_launches": launch_ids,
        "rerun_fw_ids": fw_ids,
        "problems": len(report.problems),
        "fixed": sum(p.fixed for p in report.problems),
        "remaining": [p.message for p in report.remaining],
    }


def maintain(
    lp,
    infinite=False,
    interval=MAINTAIN_INTERVAL,
    lost_after=LOST_RUN_SECS,
    report=None,
    sleep=time.sleep,
    max_loops=None,
):
    """Run ``maintain_once``, then (``infinite``) again every ``interval`` seconds
    until stopped; ``report(result)`` sees each round. Returns the last round's result."""
    loops = 0
    while True:
        result = maintain_once(lp, lost_after)
        loops += 1
        if report is not None:
            report(result)
        if not infinite or (max_loops is not None and loops >= max_loops):
            return result
        sleep(interval)


__all__ = ["MAINTAIN_INTERVAL", "maintain", "maintain_once", "orphaned", "refresh", "unlock"]
