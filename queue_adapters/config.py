"""Reading FireWorks' ``my_qadapter.yaml`` into a frozen, validated value.

The file format is FireWorks' (``_fw_name: CommonAdapter`` plus ``_fw_q_type``
and template values), so existing files keep working.  Everything is checked
here, at load time, so that a typo fails on the login node with the file's name
in the message rather than inside a queued job hours later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Optional, Union

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from launchpad.errors import ConfigError

# Canonical _fw_q_type names; the file may spell them in any case.
Q_TYPES = ("SLURM", "PBS", "SGE", "LSF", "MOAB", "Cobalt", "LoadLeveler")
_Q_TYPE_ALIASES = {"TORQUE": "PBS", "PBSPRO": "PBS", "OGE": "SGE", "UGE": "SGE"}

# FireWorks' templates name the same thing differently per scheduler (nodes for
# SLURM, nnodes for PBS...); both spellings are filled so any template works.
_SYNONYMS = (("nodes", "nnodes"), ("ppnode", "ppn"))
_TEMPLATE_KEYS = ("_fw_template_file", "template_file")
_RESERVED = ("_fw_name", "_fw_q_type", "_q_commands_override") + _TEMPLATE_KEYS
_SCALARS = (str, int, float, bool, type(None))

DEFAULT_JOB_NAME = "FW_job"

PathLike = Union[str, Path]


@dataclass(frozen=True)
class QAdapterConfig:
    """A parsed qadapter file: which scheduler, the template values, overrides."""

    q_type: str
    params: Mapping[str, Any]
    template_text: Optional[str] = None
    commands_override: Mapping[str, str] = field(default_factory=dict)
    source: str = "<dict>"

    def merged(self, overrides: Optional[Mapping[str, Any]] = None) -> dict:
        """Template values with a firework's ``_queueadapter`` dict on top."""
        values = dict(self.params)
        if overrides:
            extra = _check_params(overrides, "_queueadapter", reserved_ok=False)
            values.update(_fill_synonyms(extra, only_missing=False))
            if "walltime" in extra:
                walltime_seconds(extra["walltime"], where="_queueadapter")
        return values


def load_qadapter(source: Union[PathLike, Mapping[str, Any]]) -> QAdapterConfig:
    """Parse a my_qadapter.yaml path (or an already loaded dict) and validate it."""
    if isinstance(source, Mapping):
        return _from_mapping(source, "<dict>", Path.cwd())
    path = Path(source).expanduser()
    return _from_mapping(_read_yaml(path), str(path), path.parent)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read queue adapter file: {exc.strerror}") from exc
    try:
        data = YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem}") from exc
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        raise ConfigError(
            f"{path}: the queue adapter file is empty; write _fw_q_type, "
            "rocket_launch and the job's settings in it"
        )
    return data


def _from_mapping(data: Any, where: str, base_dir: Path) -> QAdapterConfig:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: a queue adapter file must be a mapping of keys to values")
    fw_name = data.get("_fw_name", "CommonAdapter")
    if fw_name != "CommonAdapter":
        raise ConfigError(f"{where}: _fw_name {fw_name!r} is not supported; use CommonAdapter")
    params = _check_params(data, where, reserved_ok=True)
    if not params.get("rocket_launch"):
        raise ConfigError(
            f"{where}: rocket_launch is missing: the command each job runs, "
            "e.g. 'rlaunch -l my_launchpad.yaml singleshot'"
        )
    walltime_seconds(params.get("walltime"), where=where)
    params.setdefault("job_name", None)
    if params["job_name"] is None:
        params["job_name"] = DEFAULT_JOB_NAME
    return QAdapterConfig(
        q_type=_q_type(data.get("_fw_q_type"), where),
        params=MappingProxyType(_fill_synonyms(params, only_missing=True)),
        template_text=_template_text(data, where, base_dir),
        commands_override=MappingProxyType(_commands_override(data, where)),
        source=where,
    )


def _q_type(value: Any, where: str) -> str:
    if value is None:
        raise ConfigError(
            f"{where}: _fw_q_type is missing: say which batch system, one of {', '.join(Q_TYPES)}"
        )
    known = {name.upper(): name for name in Q_TYPES}
    key = str(value).upper()
    key = _Q_TYPE_ALIASES.get(key, key)
    if key not in known:
        raise ConfigError(f"{where}: _fw_q_type {value!r} is not one of {', '.join(Q_TYPES)}")
    return known[key]


def _check_params(data: Mapping[str, Any], where: str, reserved_ok: bool) -> dict:
    """Template values must be single values: a list would render as Python syntax."""
    params = {}
    for key, value in data.items():
        if key in _RESERVED:
            if not reserved_ok:
                raise ConfigError(f"{where}: {key} cannot be changed per firework")
            continue
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*", key):
            raise ConfigError(f"{where}: key {key!r} is not a valid placeholder name")
        if not isinstance(value, _SCALARS):
            raise ConfigError(f"{where}: {key} must be a single value, not {type(value).__name__}")
        params[key] = value
    return params


def _fill_synonyms(params: dict, only_missing: bool) -> dict:
    for a, b in _SYNONYMS:
        for src, dst in ((a, b), (b, a)):
            if params.get(src) is not None and (not only_missing or params.get(dst) is None):
                params[dst] = params[src]
    return params


def _template_text(data: Mapping[str, Any], where: str, base_dir: Path) -> Optional[str]:
    """A user template replaces the package one; relative paths are next to the yaml."""
    name = next((data[k] for k in _TEMPLATE_KEYS if data.get(k)), None)
    if name is None:
        return None
    path = Path(str(name)).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read template file {path}: {exc.strerror}") from exc


def _commands_override(data: Mapping[str, Any], where: str) -> dict:
    value = data.get("_q_commands_override") or {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise ConfigError(
            f"{where}: _q_commands_override must map names like submit_cmd "
            "to commands, e.g. {submit_cmd: my_sbatch}"
        )
    return dict(value)


_WALLTIME = re.compile(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?")


def walltime_seconds(value: Any, where: str = "qadapter") -> Optional[int]:
    """Seconds in a walltime, so pilots can stop before the scheduler kills them.

    Accepts Slurm's forms: minutes as a number, "MM:SS", "HH:MM:SS", "D-HH",
    "D-HH:MM", "D-HH:MM:SS".  None or "" means no limit given.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{where}: walltime {value!r} is not a duration")
    if isinstance(value, (int, float)):
        if value <= 0:
            raise ConfigError(f"{where}: walltime must be positive, got {value!r}")
        return int(value * 60)
    match = _WALLTIME.fullmatch(value.strip())
    if not match:
        raise ConfigError(f"{where}: walltime {value!r} is not minutes, HH:MM:SS or D-HH:MM:SS")
    days, *parts = match.groups()
    numbers = [int(p) for p in parts if p is not None]
    if days is not None:  # D-HH[:MM[:SS]]
        numbers += [0] * (3 - len(numbers))
        seconds = int(days) * 86400 + numbers[0] * 3600 + numbers[1] * 60 + numbers[2]
    else:  # MM, MM:SS or HH:MM:SS
        seconds = sum(n * 60**i for i, n in enumerate(reversed(numbers)))
        if len(numbers) == 1:
            seconds *= 60
    if seconds <= 0:
        raise ConfigError(f"{where}: walltime must be positive, got {value!r}")
    return seconds
