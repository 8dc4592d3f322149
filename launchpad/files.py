"""Reading and writing FireWorks-format files (YAML and JSON).

A workflow file holds ``fws``/``links``/``metadata``/``name``; a file that
holds one Firework (a mapping with ``spec``) is a one-node workflow. Errors
name the file and, where the parser knows it, the line.
"""

import io
import json

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import ConfigError, WorkflowFileError


def _yaml():
    """FireWorks' loader (ruamel's safe one): unquoted dates read as ``datetime``/``date``;
    a store keeps them in its date form (ISO text)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    return yaml


def format_of(path, fmt=None):
    if fmt:
        return fmt.lower()
    return "json" if str(path).lower().endswith(".json") else "yaml"


def parse_text(text, fmt="yaml", path="<text>", error=WorkflowFileError):
    """Parse YAML or JSON text (None when there is nothing); errors carry the path and line."""
    if not text.strip():
        return None
    try:
        return _parse(text, fmt, path, error)
    except RecursionError:
        raise _error(
            error,
            "nested too deeply to read (mappings or lists inside each other thousands of levels down)",
            path,
            None,
        ) from None


def _parse(text, fmt, path, error):
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _error(error, f"invalid JSON: {exc.msg}", path, exc.lineno) from None
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise _error(error, f"invalid YAML: {exc.problem or exc.context}", path, line) from None
    except YAMLError as exc:
        raise _error(error, f"invalid YAML: {exc}", path, None) from None


def _error(cls, message, path, line):
    if cls is WorkflowFileError:
        return WorkflowFileError(message, path, line)
    where = f"{path}:{line}: " if line else f"{path}: "
    return cls(where + message)


def read_data_file(path, fmt=None, error=WorkflowFileError):
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(error, f"cannot read: {getattr(exc, 'strerror', None) or exc}", path, None) from None
    return parse_text(text, format_of(path, fmt), path, error)


def read_yaml_file(path):
    """A configuration file's contents (YAML or JSON); ConfigError on failure."""
    return read_data_file(path, error=ConfigError)


def dumps(data, fmt="yaml"):
    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    stream = io.StringIO()
    _yaml().dump(_plain(data), stream)
    return stream.getvalue()


def _plain(value):
    """Convert tuples and str-subclasses so the safe dumper accepts them."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, str)) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str) and type(value) is not str:
        return str(value)
    return value
