"""``lpad track_fws``: the tails of the files fireworks track (``_trackers``).

The text is FireWorks' (``# FW id: ...``, ``## Launch id: ...``,
``### Filename: ...``, ``>------<`` between fireworks), so scripts that read
it keep working; ``-o json|yaml`` gives the same as data.
"""

import launchpad.display as display

from ..trackers import Tracker
from .common import add_selection, count, fw_query

_CHUNK = 500  # fireworks per launch query: a long id list stays a bounded query
SEPARATOR = ">------<"


def register(group):
    p = group.add_parser(
        "track_fws",
        help="show the tracked files' last lines (_trackers)",
        description="Show the last lines of the files fireworks track (the spec's "
        "_trackers), per launch, as last recorded by the rocket (at every "
        "heartbeat and at the end). With no selection, every firework. "
        "Example: lpad track_fws -i 1 --include words.txt",
    )
    add_selection(p)
    p.add_argument(
        "-c", "--include", nargs="+", metavar="FILE", help="only these tracked files (names as in _trackers)"
    )
    p.add_argument("-x", "--exclude", nargs="+", metavar="FILE", help="not these tracked files")
    p.add_argument(
        "-m",
        "--max",
        type=count,
        default=0,
        metavar="N",
        help="look at most at N fireworks (default 0: no limit)",
    )
    p.set_defaults(func=track_fws)


def track_fws(args, lp):
    fw_ids = lp.get_fw_ids(fw_query(lp, args), sort=[("fw_id", 1)], limit=args.max)
    shown = [fw for fw in _tracked(lp, fw_ids) if _keep(fw, args.include, args.exclude)]
    display.emit(shown, args.output, human=lambda: _print(shown))
    return 0


def _tracked(lp, fw_ids):
    """``{"fw_id", "name", "launches": [{"launch_id", "trackers"}]}`` per firework with
    tracker data, reading only the launches' trackers and the fireworks' names."""
    for start in range(0, len(fw_ids), _CHUNK):
        chunk = fw_ids[start : start + _CHUNK]
        launches = lp.get_launches(
            {"fw_id": {"$in": chunk}}, fields=["launch_id", "fw_id", "trackers"], sort=[("launch_id", 1)]
        )
        by_fw = {}
        for launch in launches:
            if launch.get("trackers"):
                by_fw.setdefault(launch["fw_id"], []).append(
                    {"launch_id": launch["launch_id"], "trackers": launch["trackers"]}
                )
        if not by_fw:
            continue
        names = {
            d["fw_id"]: d["name"]
            for d in lp.get_fws({"fw_id": {"$in": sorted(by_fw)}}, fields=["fw_id", "name"])
        }
        for fw_id in chunk:
            if fw_id in by_fw:
                yield {"fw_id": fw_id, "name": names.get(fw_id), "launches": by_fw[fw_id]}


def _keep(fw, include, exclude):
    """Drop the trackers --include/--exclude leave out; False when none is left."""
    for launch in fw["launches"]:
        launch["trackers"] = [
            t
            for t in launch["trackers"]
            if (not include or t["filename"] in include) and (not exclude or t["filename"] not in exclude)
        ]
    fw["launches"] = [launch for launch in fw["launches"] if launch["trackers"]]
    return bool(fw["launches"])


def _print(shown):
    for n, fw in enumerate(shown):
        if n:
            display.out(SEPARATOR)
        display.out(f"# FW id: {fw['fw_id']}, FW name={fw['name']!r}")
        for launch in fw["launches"]:
            for tracker in launch["trackers"]:
                display.out(f"## Launch id: {launch['launch_id']}")
                display.out(str(Tracker.from_dict(tracker)))
