"""The invariant checker behind ``lpad admin check``: is the store self-consistent?

A crash, a kill -9 or a lost connection between two writes (MongoDB has no
multi-document transactions here) can leave a store that no single command
would produce: a firework RUNNING with no live launch, a child still
WAITING for a parent that completed, a link written on one side only. The
checker reads the store once, in batches of whole workflows (memory stays flat in
their number), names each such problem in plain words, and
with ``fix=True`` repairs what can be repaired without guessing: counts
recomputed from the parents' states, one-sided links completed, and pieces
an interrupted add or delete left without their workflow removed.

Fixes that could race a live rocket or an ``lpad add`` in progress wait for
``grace_secs`` of silence, and every repair is a conditional write on the
state it saw, so a concurrent change is never overwritten.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .checker_batches import DEFAULT_BATCH, LIVE, batches, launch_pages
from .dag import find_cycle, topological_order
from .states import LaunchState, State

S = State
RAN = (S.RUNNING.value, S.COMPLETED.value, S.FIZZLED.value)
ID_KINDS = (("fw", "fireworks", "fw_id"), ("wf", "workflows", "wf_id"), ("launch", "launches", "launch_id"))
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
DEFAULT_GRACE_SECS = 300.0


@dataclass
class Problem:
    """One broken invariant, said so a person can act on it."""

    kind: str
    message: str
    fw_id: int = None
    launch_id: int = None
    wf_id: int = None
    fixable: bool = False
    fixed: bool = False
    repair: object = field(default=None, repr=False, compare=False)

    def to_dict(self):
        out = {"kind": self.kind, "message": self.message, "fixable": self.fixable, "fixed": self.fixed}
        for key in ("fw_id", "launch_id", "wf_id"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass
class Report:
    """What a check found: ``problems`` (fixed ones marked) and ``remaining``."""

    checked: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    remaining: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.remaining

    @property
    def fixed(self):
        return [p for p in self.problems if p.fixed]

    def lines(self):
        """The report for a terminal: one line per problem, then a summary."""
        out = [("fixed: " if p.fixed else "") + p.message for p in self.problems]
        out += [p.message for p in self.remaining if p not in self.problems]
        checked = ", ".join(f"{n} {what}" for what, n in self.checked.items())
        if self.ok and not self.problems:
            out.append(f"no problems found ({checked})")
        elif self.ok:
            out.append(f"{len(self.fixed)} problem(s) fixed; none left ({checked})")
        else:
            fixable = sum(1 for p in self.remaining if p.fixable)
            hint = f"; {fixable} can be fixed with --fix" if fixable else ""
            out.append(f"{len(self.remaining)} problem(s) left{hint} ({checked})")
        return out

    def to_dict(self):
        return {
            "ok": self.ok,
            "checked": dict(self.checked),
            "problems": [p.to_dict() for p in self.problems],
            "remaining": [p.to_dict() for p in self.remaining],
        }


def _age_secs(stamp, now):
    """Seconds since a store timestamp (a missing or odd one counts as old)."""
    try:
        then = datetime.strptime(str(stamp), _TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return float("inf")
    return (now - then).total_seconds()


def _ids(ids):
    ids = sorted(ids)
    return ", ".join(map(str, ids[:10])) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


# -- the rules ------------------------------------------------------------------------
# Each rule's problems, in the order a report lists them, and what each list is sorted by
# (batches come in wf_id order; the report keeps the order of one read of everything).
RULES = {
    "structure": (
        ("orphan_launch", "launch_id"),
        ("orphan_firework", "wf_id"),
        ("empty_workflow", "wf_id"),
        ("link", "fw_id"),
        ("cycle", "wf_id"),
        ("id_counter", None),
    ),
    "launches": (("no_live_launch", "fw_id"), ("stray_launch", "launch_id")),
    "dependencies": (("dependency", "fw_id"),),
}


class Checker:
    """Runs the rules in stages; with ``fix`` each stage repairs before the next reads.

    Each pass reads the store in batches (launchpad/checker_batches.py), on SQLite in
    one read transaction: one consistent view while rockets go on writing.
    """

    def __init__(
        self, launchpad, fix=False, grace_secs=DEFAULT_GRACE_SECS, batch=DEFAULT_BATCH, progress=None
    ):
        self.lp = launchpad
        self.store = launchpad.store
        self.fix = fix
        self.grace = float(grace_secs)
        self.batch = batch
        self.progress = progress

    def run(self):
        """Find (and with ``fix`` repair) problems; a fixing run reads again after each stage."""
        if not self.fix:
            checked, problems = self.scan(RULES)
            return Report(checked=checked, problems=problems, remaining=list(problems))
        report = Report()
        for stage in RULES:
            report.checked, found = self.scan((stage,))
            for problem in found:
                if problem.fixable and problem.repair is not None:
                    problem.fixed = bool(problem.repair())
            report.problems.extend(found)
        if report.fixed:
            report.checked, report.remaining = self.scan(RULES)
        else:
            report.remaining = [p for p in report.problems if not p.fixed]
        return report

    def scan(self, stages):
        """One read of the store: ``(counts, problems)`` of the rules of ``stages``."""
        found = {rule: [] for stage in stages for rule, _ in RULES[stage]}
        checked = {"workflows": 0, "fireworks": 0, "launches": 0}
        highest = {"wf": 0, "fw": 0, "launch": 0}
        orphans = []
        with self.store.snapshot():
            total = self.store.count_fireworks()
            for batch in batches(self.store, self.batch):
                checked["workflows"] += len(batch.workflows)
                checked["fireworks"] += len(batch.fws)
                highest["wf"] = max(highest["wf"], *batch.workflows, 0)
                highest["fw"] = max(highest["fw"], *batch.fws, 0)
                self._batch_rules(batch, found)
                if self.progress is not None and batch.fws:
                    self.progress(checked["fireworks"], total)
            for page, fws in launch_pages(self.store, self.batch):
                checked["launches"] += len(page)
                highest["launch"] = max(highest["launch"], page[-1]["launch_id"])
                orphans += [launch["launch_id"] for launch in page if launch["fw_id"] not in fws]
                if "stray_launch" in found:
                    found["stray_launch"] += filter(None, (self._stray_launch_problem(fws, x) for x in page))
        # Counters only grow: read after the view, one behind the data is still behind.
        if "id_counter" in found:
            found["orphan_launch"] += self.orphan_launches(orphans)
            found["id_counter"] += self.counters(highest)
        problems = []
        for stage in stages:
            for rule, key in RULES[stage]:
                if not self.wanted(rule):
                    continue
                problems += (
                    sorted(found[rule], key=lambda p, k=key: getattr(p, k) or 0) if key else found[rule]
                )
        return checked, problems

    def wanted(self, rule):
        """Whether problems of ``rule`` (a name in RULES) are reported and repaired."""
        return True

    def _batch_rules(self, batch, found):
        if "link" in found:
            found["orphan_firework"] += self.orphan_fireworks(batch)
            found["empty_workflow"] += self.empty_workflows(batch)
            found["link"] += self.links(batch)
            found["cycle"] += self.cycles(batch)
        if "no_live_launch" in found:
            found["no_live_launch"] += self.live_launches(batch)
        if "dependency" in found:
            found["dependency"] += self.dependency_rules(batch)

    def old_enough(self, stamp):
        return _age_secs(stamp, self.lp.clock()) >= self.grace

    # -- stage 1: who belongs where, and the links ---------------------------------
    def orphan_launches(self, orphans):
        if orphans:
            yield Problem(
                "orphan_launch",
                f"launch(es) {_ids(orphans)} belong to no firework "
                "(left by an interrupted delete); --fix removes them",
                launch_id=min(orphans),
                fixable=True,
                repair=lambda: self.store.delete_launches(orphans) or True,
            )

    def orphan_fireworks(self, batch):
        for wf_id, members in sorted(batch.members.items()):
            if wf_id in batch.workflows:
                continue
            newest = max(batch.fws[i].get("created_on") or "" for i in members)
            settled = self.old_enough(newest)
            why = (
                "--fix removes them and their launches"
                if settled
                else f"added less than {self.grace:g} s ago, perhaps still being added; left alone"
            )
            yield Problem(
                "orphan_firework",
                f"firework(s) {_ids(members)} belong to workflow "
                f"{wf_id}, which does not exist (an interrupted add or delete); {why}",
                fw_id=min(members),
                wf_id=wf_id,
                fixable=settled,
                repair=lambda m=members: self.store.delete_fireworks(m) or True,
            )

    def empty_workflows(self, batch):
        for wf_id in sorted(set(batch.workflows) - set(batch.members)):
            yield Problem(
                "empty_workflow",
                f"workflow {wf_id} ({batch.workflows[wf_id].get('name')!r}) "
                "has no fireworks; --fix removes it",
                wf_id=wf_id,
                fixable=True,
                repair=lambda w=wf_id: self.store.delete_workflow(w) or True,
            )

    def links(self, batch):
        for fw in batch.fws.values():
            me = fw["fw_id"]
            for side, other_side in (("children", "parents"), ("parents", "children")):
                for other in fw[side]:
                    target = batch.firework(other)
                    if target is None:
                        yield Problem(
                            "dangling_link",
                            f"firework {me} lists {other} among its "
                            f"{side}, but there is no firework {other}; --fix drops "
                            "that link",
                            fw_id=me,
                            fixable=True,
                            repair=lambda a=me, b=other, s=side: self._drop_link(a, s, b),
                        )
                    elif target["wf_id"] != fw["wf_id"]:
                        yield Problem(
                            "cross_workflow_link",
                            f"firework {me} (workflow "
                            f"{fw['wf_id']}) is linked to firework {other} of another "
                            f"workflow ({target['wf_id']})",
                            fw_id=me,
                            wf_id=fw["wf_id"],
                        )
                    elif me not in target[other_side]:
                        yield Problem(
                            "one_sided_link",
                            f"firework {me} lists {other} among its "
                            f"{side}, but {other} does not list {me} among its "
                            f"{other_side} (an interrupted append or detour); --fix "
                            "completes the link",
                            fw_id=me,
                            fixable=True,
                            repair=lambda a=other, b=me, s=other_side: self._add_link(a, s, b),
                        )

    def _drop_link(self, fw_id, side, other):
        with self.store.transaction():
            doc = self.store.get_firework(fw_id, fields=["fw_id", side])
            if doc is None or other not in doc[side]:
                return False
            self.store.update_fireworks([fw_id], {side: [i for i in doc[side] if i != other]})
        return True

    def _add_link(self, fw_id, side, other):
        with self.store.transaction():
            doc = self.store.get_firework(fw_id, fields=["fw_id", side])
            if doc is None or other in doc[side]:
                return False
            self.store.update_fireworks([fw_id], {side: list(doc[side]) + [other]})
        return True

    def cycles(self, batch):
        for wf_id, members in sorted(batch.members.items()):
            links = {i: [c for c in batch.fws[i]["children"] if batch.firework(c)] for i in members}
            order = topological_order(links)
            if len(order) < len(links):
                cycle = find_cycle(links, set(links) - set(order))
                yield Problem(
                    "cycle",
                    f"workflow {wf_id} has a cycle: "
                    f"{' -> '.join(map(str, cycle))}; its fireworks can never all run",
                    fw_id=cycle[0],
                    wf_id=wf_id,
                )

    def counters(self, highest):
        for kind, table, key in ID_KINDS:
            following = self.store.next_ids(kind, 0)
            if following <= highest[kind]:
                gap = highest[kind] - following + 1
                yield Problem(
                    "id_counter",
                    f"the next {key} would be {following}, but "
                    f"{table} up to {highest[kind]} exist; new ones would collide. --fix "
                    "moves the counter on",
                    fixable=True,
                    repair=lambda k=kind, n=gap: self.store.next_ids(k, n) and True,
                )

    # -- stage 2: RUNNING and RESERVED fireworks against their launches -------------
    def live_launches(self, batch):
        for fw in batch.fws.values():
            if fw["state"] in LIVE:
                problem = self._live_launch_problem(batch, fw)
                if problem:
                    yield problem

    def _live_launch_problem(self, batch, fw):
        state, current = fw["state"], fw.get("current_launch")
        launch = batch.launches.get(current) if current is not None else None
        # a duplicate (launchpad/duplicates.py) follows the launch it took over
        mine = launch is not None and (
            launch["fw_id"] == fw["fw_id"] or current in (fw.get("taken_launches") or ())
        )
        if mine and launch["state"] == state:
            return None
        if current is None:
            why = "has no current launch"
        elif launch is None:
            why = f"points to launch {current}, which does not exist"
        elif launch["fw_id"] != fw["fw_id"]:
            why = f"points to launch {current} of firework {launch['fw_id']}"
        else:
            why = f"points to launch {current}, which is {launch['state']}"
        unfinished = batch.unfinished_parents(fw) or []  # the batch is gone when the fix runs
        settled = self.old_enough(fw.get("updated_on"))
        action = (
            "--fix puts it back to READY/WAITING"
            if settled
            else f"changed less than {self.grace:g} s ago; left alone"
        )
        verb = "can never finish" if state == S.RUNNING.value else "is held for nothing"
        return Problem(
            "no_live_launch",
            f"firework {fw['fw_id']} is {state} but {why}: it {verb}; {action}",
            fw_id=fw["fw_id"],
            launch_id=current,
            fixable=settled,
            repair=lambda: self._requeue(fw, unfinished),
        )

    def _requeue(self, fw, unfinished):
        goal = S.WAITING.value if unfinished else S.READY.value
        return bool(
            self.store.update_fireworks(
                [fw["fw_id"]],
                {
                    "state": goal,
                    "waiting_on": len(unfinished),
                    "current_launch": None,
                    "updated_on": self.lp.now(),
                },
                expect={"state": fw["state"], "current_launch": fw.get("current_launch")},
            )
        )

    def _stray_launch_problem(self, fws, launch):
        if launch["state"] not in LIVE:
            return None
        fw = fws.get(launch["fw_id"])
        if fw is None:
            return None  # an orphan launch: stage 1 said so
        if fw.get("current_launch") == launch["launch_id"] and fw["state"] == launch["state"]:
            return None
        settled = self.old_enough(launch.get("last_ping") or launch.get("time_start"))
        action = (
            "--fix closes it"
            if settled
            else f"its last sign of life is less than {self.grace:g} s old; left alone"
        )
        points_to = (
            "points to launch " + str(fw["current_launch"])
            if fw.get("current_launch")
            else "has no current launch"
        )
        return Problem(
            "stray_launch",
            f"launch {launch['launch_id']} is {launch['state']} but "
            f"its firework {fw['fw_id']} is {fw['state']} and {points_to}"
            f"; {action}",
            fw_id=fw["fw_id"],
            launch_id=launch["launch_id"],
            fixable=settled,
            repair=lambda: self._close_stray(launch, fw),
        )

    def _close_stray(self, launch, fw):
        if launch["state"] == LaunchState.RESERVED.value:
            changes = {"state": LaunchState.CANCELLED.value, "time_end": self.lp.now()}
        elif fw.get("current_launch") == launch["launch_id"] and fw["state"] in RAN:
            changes = {"state": fw["state"], "time_end": self.lp.now()}
        else:
            changes = {
                "state": S.FIZZLED.value,
                "time_end": self.lp.now(),
                "exception": {
                    "message": "closed by lpad admin check: its firework had moved on",
                    "checker": True,
                },
            }
        return self.store.update_launch(launch["launch_id"], changes, expect_state=launch["state"])

    # -- stage 3: states and counts against the parents ---------------------------
    def dependency_rules(self, batch):
        for fw in batch.fws.values():
            if fw["state"] == S.ARCHIVED.value:
                continue
            ran = fw["state"] in RAN
            unfinished = batch.unfinished_parents(fw, lenient=ran)
            if unfinished is None:
                continue
            if ran and unfinished:
                yield Problem(
                    "ran_too_early",
                    f"firework {fw['fw_id']} is {fw['state']} although "
                    f"its parent(s) {_ids(unfinished)} are "
                    f"{', '.join(sorted({batch.firework(p)['state'] for p in unfinished}))}",
                    fw_id=fw["fw_id"],
                )
                continue
            problem = self._count_problem(fw, unfinished)
            if problem:
                yield problem

    def _count_problem(self, fw, unfinished):
        state, waiting = fw["state"], fw.get("waiting_on", 0)
        goal = state
        if state == S.WAITING.value and not unfinished:
            goal = S.READY.value
        elif state == S.READY.value and unfinished:
            goal = S.WAITING.value
        if waiting == len(unfinished) and goal == state:
            if state == S.RESERVED.value and unfinished:
                return Problem(
                    "reserved_too_early",
                    f"firework {fw['fw_id']} is RESERVED although "
                    f"its parent(s) {_ids(unfinished)} are not finished",
                    fw_id=fw["fw_id"],
                )
            return None
        parts = []
        if waiting != len(unfinished):
            parts.append(
                f"counts {waiting} unfinished parent(s), but {len(unfinished)} are "
                f"unfinished{' (' + _ids(unfinished) + ')' if unfinished else ''}"
            )
        if goal != state:
            parts.append(
                f"is {state} but should be {goal}" + (": it would never run" if goal == S.READY.value else "")
            )
        return Problem(
            "waiting_on",
            f"firework {fw['fw_id']} " + " and ".join(parts) + "; --fix recomputes it from its parents",
            fw_id=fw["fw_id"],
            fixable=True,
            repair=lambda: bool(
                self.store.update_fireworks(
                    [fw["fw_id"]],
                    {"waiting_on": len(unfinished), "state": goal, "updated_on": self.lp.now()},
                    expect={"state": state, "waiting_on": waiting},
                )
            ),
        )


def check(launchpad, fix=False, grace_secs=DEFAULT_GRACE_SECS, batch=DEFAULT_BATCH, progress=None):
    """Check every invariant of ``launchpad``'s store; with ``fix`` repair the safe ones.

    ``grace_secs``: problems that a live rocket or an ``lpad add`` in progress
    could still resolve are only repaired once this old. ``batch``: about how many
    fireworks are read at a time; ``progress(fireworks_done, total)`` is called after
    each batch. Returns a Report.
    """
    return Checker(launchpad, fix=fix, grace_secs=grace_secs, batch=batch, progress=progress).run()


__all__ = ["check", "Report", "Problem", "DEFAULT_GRACE_SECS"]
