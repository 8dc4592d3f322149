"""The invariant checker behind ``lpad admin check``: is the store self-consistent?

A crash, a kill -9 or a lost connection between two writes (MongoDB has no
multi-document transactions here) can leave a store that no single command
would produce: a firework RUNNING with no live launch, a child still
WAITING for a parent that completed, a link written on one side only. The
checker reads everything once, names each such problem in plain words, and
with ``fix=True`` repairs what can be repaired without guessing: counts
recomputed from the parents' states, one-sided links completed, and pieces
an interrupted add or delete left without their workflow removed.

Fixes that could race a live rocket or an ``lpad add`` in progress wait for
``grace_secs`` of silence, and every repair is a conditional write on the
state it saw, so a concurrent change is never overwritten.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .dag import find_cycle, topological_order
from .states import LaunchState, State

S = State
PENDING = (S.WAITING.value, S.READY.value, S.RESERVED.value, S.RUNNING.value, S.PAUSED.value)
RAN = (S.RUNNING.value, S.COMPLETED.value, S.FIZZLED.value)
ID_KINDS = (("fw", "fireworks", "fw_id"), ("wf", "workflows", "wf_id"), ("launch", "launches", "launch_id"))
_FW_FIELDS = [
    "fw_id",
    "wf_id",
    "name",
    "state",
    "parents",
    "children",
    "waiting_on",
    "current_launch",
    "created_on",
    "updated_on",
    "spec._allow_fizzled_parents",
    "taken_launches",
]
_LAUNCH_FIELDS = ["launch_id", "fw_id", "state", "last_ping", "time_start"]
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


# -- reading the store -----------------------------------------------------------
class Snapshot:
    """Everything the rules need, read once (on SQLite in one read transaction: one
    consistent view, while rockets go on writing)."""

    def __init__(self, store):
        with store.snapshot():
            self.workflows = {
                d["wf_id"]: d for d in store.find_workflows(fields=["wf_id", "name", "created_on"])
            }
            self.fws = {d["fw_id"]: d for d in store.find_fireworks(fields=_FW_FIELDS)}
            self.launches = {d["launch_id"]: d for d in store.find_launches(fields=_LAUNCH_FIELDS)}
        # Counters only grow: read after the view, one behind the data is still behind.
        self.next_ids = {kind: store.next_ids(kind, 0) for kind, _, _ in ID_KINDS}
        for fw in self.fws.values():
            fw.setdefault("parents", [])
            fw.setdefault("children", [])
        self.members = {}
        for fw in self.fws.values():
            self.members.setdefault(fw["wf_id"], []).append(fw["fw_id"])

    def counts(self):
        return {"workflows": len(self.workflows), "fireworks": len(self.fws), "launches": len(self.launches)}

    def allows_fizzled(self, fw):
        return bool((fw.get("spec") or {}).get("_allow_fizzled_parents"))

    def unfinished_parents(self, fw, lenient=False):
        """Parents that still hold ``fw`` back (``None`` when an ARCHIVED one hides the truth).

        ``lenient`` (for fireworks that already ran) accepts any parent that is
        no longer pending when ``fw`` allows fizzled parents: a FIZZLED parent
        may have been defused since.
        """
        allow = self.allows_fizzled(fw)
        out = []
        for p in fw["parents"]:
            parent = self.fws.get(p)
            if parent is None:
                continue
            state = parent["state"]
            if state == S.ARCHIVED.value:
                return None
            done = state == S.COMPLETED.value or (
                allow and (state not in PENDING if lenient else state == S.FIZZLED.value)
            )
            if not done:
                out.append(p)
        return out


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
class Checker:
    """Runs the rules in stages; with ``fix`` each stage repairs before the next reads."""

    def __init__(self, launchpad, fix=False, grace_secs=DEFAULT_GRACE_SECS):
        self.lp = launchpad
        self.store = launchpad.store
        self.fix = fix
        self.grace = float(grace_secs)

    def stages(self):
        return (self.structure, self.launch_rules, self.dependency_rules)

    def find_all(self, snap):
        return [p for stage in self.stages() for p in stage(snap)]

    def run(self):
        """Find (and with ``fix`` repair) problems; a fixing run reads again after each stage."""
        snap = Snapshot(self.store)
        report = Report(checked=snap.counts())
        if not self.fix:
            report.problems = self.find_all(snap)
            report.remaining = list(report.problems)
            return report
        for stage in self.stages():
            found = list(stage(snap))
            repaired = False
            for problem in found:
                if problem.fixable and problem.repair is not None:
                    problem.fixed = bool(problem.repair())
                    repaired = repaired or problem.fixed
            report.problems.extend(found)
            if repaired:
                snap = Snapshot(self.store)
        report.checked = snap.counts()
        report.remaining = (
            self.find_all(snap) if report.fixed else [p for p in report.problems if not p.fixed]
        )
        return report

    def old_enough(self, stamp):
        return _age_secs(stamp, self.lp.clock()) >= self.grace

    # -- stage 1: who belongs where, and the links ---------------------------------
    def structure(self, snap):
        yield from self.orphan_launches(snap)
        yield from self.orphan_fireworks(snap)
        yield from self.empty_workflows(snap)
        yield from self.links(snap)
        yield from self.cycles(snap)
        yield from self.counters(snap)

    def orphan_launches(self, snap):
        orphans = sorted(
            launch["launch_id"] for launch in snap.launches.values() if launch["fw_id"] not in snap.fws
        )
        if orphans:
            yield Problem(
                "orphan_launch",
                f"launch(es) {_ids(orphans)} belong to no firework "
                "(left by an interrupted delete); --fix removes them",
                launch_id=orphans[0],
                fixable=True,
                repair=lambda: self.store.delete_launches(orphans) or True,
            )

    def orphan_fireworks(self, snap):
        for wf_id, members in sorted(snap.members.items()):
            if wf_id in snap.workflows:
                continue
            newest = max(snap.fws[i].get("created_on") or "" for i in members)
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

    def empty_workflows(self, snap):
        for wf_id in sorted(set(snap.workflows) - set(snap.members)):
            yield Problem(
                "empty_workflow",
                f"workflow {wf_id} ({snap.workflows[wf_id].get('name')!r}) "
                "has no fireworks; --fix removes it",
                wf_id=wf_id,
                fixable=True,
                repair=lambda w=wf_id: self.store.delete_workflow(w) or True,
            )

    def links(self, snap):
        for fw in sorted(snap.fws.values(), key=lambda d: d["fw_id"]):
            me = fw["fw_id"]
            for side, other_side in (("children", "parents"), ("parents", "children")):
                for other in fw[side]:
                    target = snap.fws.get(other)
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

    def cycles(self, snap):
        for wf_id, members in sorted(snap.members.items()):
            links = {i: [c for c in snap.fws[i]["children"] if c in snap.fws] for i in members}
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

    def counters(self, snap):
        for kind, table, key in ID_KINDS:
            items = {"fireworks": snap.fws, "workflows": snap.workflows, "launches": snap.launches}[table]
            highest = max(items, default=0)
            if snap.next_ids[kind] <= highest:
                gap = highest - snap.next_ids[kind] + 1
                yield Problem(
                    "id_counter",
                    f"the next {key} would be {snap.next_ids[kind]}, but "
                    f"{table} up to {highest} exist; new ones would collide. --fix "
                    "moves the counter on",
                    fixable=True,
                    repair=lambda k=kind, n=gap: self.store.next_ids(k, n) and True,
                )

    # -- stage 2: RUNNING and RESERVED fireworks against their launches -------------
    def launch_rules(self, snap):
        for fw in sorted(snap.fws.values(), key=lambda d: d["fw_id"]):
            if fw["state"] in (S.RUNNING.value, S.RESERVED.value):
                problem = self._live_launch_problem(snap, fw)
                if problem:
                    yield problem
        for launch in sorted(snap.launches.values(), key=lambda d: d["launch_id"]):
            if launch["state"] in (S.RUNNING.value, S.RESERVED.value):
                problem = self._stray_launch_problem(snap, launch)
                if problem:
                    yield problem

    def _live_launch_problem(self, snap, fw):
        state, current = fw["state"], fw.get("current_launch")
        launch = snap.launches.get(current) if current is not None else None
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
            repair=lambda: self._requeue(fw, snap),
        )

    def _requeue(self, fw, snap):
        unfinished = snap.unfinished_parents(fw) or []
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

    def _stray_launch_problem(self, snap, launch):
        fw = snap.fws.get(launch["fw_id"])
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
    def dependency_rules(self, snap):
        for fw in sorted(snap.fws.values(), key=lambda d: d["fw_id"]):
            if fw["state"] == S.ARCHIVED.value:
                continue
            ran = fw["state"] in RAN
            unfinished = snap.unfinished_parents(fw, lenient=ran)
            if unfinished is None:
                continue
            if ran and unfinished:
                yield Problem(
                    "ran_too_early",
                    f"firework {fw['fw_id']} is {fw['state']} although "
                    f"its parent(s) {_ids(unfinished)} are "
                    f"{', '.join(sorted({snap.fws[p]['state'] for p in unfinished}))}",
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


def check(launchpad, fix=False, grace_secs=DEFAULT_GRACE_SECS):
    """Check every invariant of ``launchpad``'s store; with ``fix`` repair the safe ones.

    ``grace_secs``: problems that a live rocket or an ``lpad add`` in progress
    could still resolve are only repaired once this old. Returns a Report.
    """
    return Checker(launchpad, fix=fix, grace_secs=grace_secs).run()


__all__ = ["check", "Report", "Problem", "DEFAULT_GRACE_SECS"]
