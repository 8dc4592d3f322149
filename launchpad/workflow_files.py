"""Workflow files: a Workflow from a FireWorks-format file or text, and back.

Apart from ``files`` (plain YAML/JSON, which the config and serialization
layers use too) because a workflow needs the models, and the models need those
layers.
"""

import os

from .errors import InvalidWorkflowError, WorkflowFileError
from .files import dumps, format_of, parse_text, read_data_file
from .models import Workflow


def workflow_from_data(data, path="<data>"):
    if data is None:
        raise WorkflowFileError("the file is empty", path)
    try:
        return Workflow.from_dict(data)
    except InvalidWorkflowError as exc:
        raise WorkflowFileError(str(exc), path) from None


def load_workflow(path, fmt=None):
    """A Workflow from a FireWorks-format file (workflow or single firework)."""
    if not os.path.exists(path):
        raise WorkflowFileError("no such file", path)
    return workflow_from_data(read_data_file(path, fmt), path)


def loads_workflow(text, fmt="yaml"):
    return workflow_from_data(parse_text(text, fmt), "<text>")


def dump_workflow(wf, path=None, fmt=None):
    """Write (or return) a workflow in FireWorks' format."""
    text = dumps(wf.to_dict(), format_of(path or "", fmt))
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return text
