"""``rlaunch singleshot --offline``: run a firework on a node with no network at all.

The rocket is the usual one; only its LaunchPad differs. ``OfflineLaunchPad``
answers the rocket's calls from files in the launch directory that
``qlaunch -r`` prepared (FW.json, FW_offline.json) and writes what the rocket
reports into files there (FW_offline.json, FW_ping.json, FW_action.json), in
FireWorks' formats (see launchpad.offline_files). ``lpad recover_offline``,
run on the login node, reads them back into the store. No store, gateway or
launchpad file is opened.
"""

import logging
import os

from launchpad.actions import FWAction
from launchpad.errors import ConfigError
from launchpad.offline_files import (
    ACTION_JSON,
    OFFLINE_JSON,
    PING_JSON,
    iso_now,
    read_fw_json,
    read_json,
    write_json,
)
from launchpad.states import State

from .rocket import Rocket, interruptible

log = logging.getLogger("rocket")


class OfflineLaunchPad:
    """The LaunchPad methods a Rocket calls, kept in the files of one launch directory."""

    def __init__(self, launch_dir, now=iso_now):
        self.launch_dir = os.path.abspath(launch_dir)
        self.path = os.path.join(self.launch_dir, OFFLINE_JSON)
        self.now = now
        self.config = None

    def describe(self):
        return f"offline files in {self.launch_dir}"

    def _read(self):
        try:
            return read_json(self.path)
        except FileNotFoundError:
            raise ConfigError(
                f"no {OFFLINE_JSON} in {self.launch_dir}: rlaunch --offline runs in a launch "
                "directory that qlaunch -r prepared (with --offline in the qadapter's rocket_launch)"
            ) from None

    def _update(self, **changes):
        data = self._read()
        data.update(changes)
        write_json(self.path, data)
        return data

    # -- the rocket's calls ---------------------------------------------------------------
    def claim_to_run(
        self, worker=None, launch_dir="", fw_id=None, host=None, ip=None, states=(), ping_interval=None
    ):
        """FW.json's firework and FW_offline.json's launch id; (None, None) when it already ran."""
        fw = read_fw_json(self.launch_dir)
        data = self._read()
        if fw_id is not None and fw["fw_id"] != int(fw_id):
            raise ConfigError(f"{self.launch_dir} holds firework {fw['fw_id']}, not firework {fw_id}")
        launch_id = data.get("launch_id")
        if not isinstance(launch_id, int):
            raise ConfigError(f"{self.path} names no launch_id: it was not written by qlaunch -r")
        if data.get("state"):
            log.info("firework %s already ran here (%s): nothing to do", fw["fw_id"], data["state"])
            return None, None
        self._update(
            started_on=self.now(),
            host=host,
            ip=ip,
            ping_interval=ping_interval,
            fworker=getattr(worker, "name", None),
        )
        self.ping_launch(launch_id)
        return fw, launch_id

    def set_launch_dir(self, launch_id, path):
        """The run stays in the directory qlaunch prepared, where recover_offline looks."""

    def ping_launch(self, launch_id, trackers=None, checkpoint=None):
        """FW_ping.json; a task ``checkpoint`` goes into FW_offline.json, where FireWorks
        keeps it and ``lpad recover_offline`` reads it."""
        if checkpoint is not None:
            self._update(checkpoint=checkpoint)
        ping = {"ping_time": self.now()}
        if trackers is not None:
            ping["trackers"] = [t.to_dict() if hasattr(t, "to_dict") else t for t in trackers]
        write_json(os.path.join(self.launch_dir, PING_JSON), ping)
        return True

    def record_tracking(self, launch_id, trackers=None, background_errors=None):
        changes = {}
        if trackers is not None:
            changes["trackers"] = [t.to_dict() if hasattr(t, "to_dict") else t for t in trackers]
        if background_errors:
            changes["background_errors"] = list(background_errors)
        if changes:
            self._update(**changes)

    def complete_launch(
        self, launch_id, action=None, state=State.COMPLETED.value, exception=None, fw_id=None
    ):
        """FW_action.json, then FW_offline.json's state: the last file written says it is over."""
        action = action if isinstance(action, FWAction) else FWAction.from_dict(action or {})
        self.ping_launch(launch_id)
        write_json(os.path.join(self.launch_dir, ACTION_JSON), action.to_dict())
        extra = {"exception": exception} if exception else {}
        self._update(fwaction=action.to_dict(), state=str(state), completed_on=self.now(), **extra)
        return fw_id

    def interrupt_launch(
        self, launch_id, fw_id, requeue=True, reason="interrupted", walltime=False, not_started=False
    ):
        """A stop signal: recorded for recover_offline, which hands the firework back
        (``requeue``) or fizzles it, as the store would have at once."""
        self._update(
            interrupted={
                "requeue": bool(requeue),
                "reason": reason,
                "walltime": bool(walltime),
                "not_started": bool(not_started),
                "on": self.now(),
            }
        )
        return State.READY.value if requeue else State.FIZZLED.value

    def get_launch(self, launch_id):
        data = self._read()
        stopped = data.get("interrupted") or {}
        return {
            "launch_id": launch_id,
            "exception": data.get("exception") or {"message": stopped.get("reason")},
        }

    def get_launches(self, query=None, fields=None, sort=None, limit=0, skip=0):
        return []  # no earlier launches are known offline


def launch_offline(worker=None, fw_id=None, launch_dir=".", **rocket_options):
    """Run the firework of ``launch_dir``'s FW.json there; returns its id, or None
    when it already ran."""
    lp = OfflineLaunchPad(launch_dir)
    # FW.json is this run's input, written by qlaunch: the rocket leaves it as it is.
    rocket = Rocket(lp, worker, launch_dir, in_place=True, **{**rocket_options, "fw_json": False})
    states = (State.READY.value, State.RESERVED.value)
    with interruptible(rocket.guard):
        return rocket.run_once(fw_id=fw_id, states=states)


__all__ = ["OfflineLaunchPad", "launch_offline"]
