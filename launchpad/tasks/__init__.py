"""The built-in Firetasks, named and configured as in FireWorks so its files run unchanged."""

from .files import (
    ArchiveDirTask,
    CompressDirTask,
    DecompressDirTask,
    FileDeleteTask,
    FileTransferTask,
    FileWriteTask,
)
from .python import PyTask
from .script import ScriptTask
from .templates import TemplateWriterTask

__all__ = [
    "ArchiveDirTask",
    "CompressDirTask",
    "DecompressDirTask",
    "FileDeleteTask",
    "FileTransferTask",
    "FileWriteTask",
    "PyTask",
    "ScriptTask",
    "TemplateWriterTask",
]
