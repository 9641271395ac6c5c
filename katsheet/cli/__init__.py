"""The `katsheet` command line: thin shells over the engine and the workbook modules."""

from .main import main

__all__ = ["main"]
