"""Column-wise evaluation of a workbook's formulas with the `formulas` package (see runs.py)."""

from .refs import Unsupported
from .runs import evaluate_cells

__all__ = ["Unsupported", "evaluate_cells"]
