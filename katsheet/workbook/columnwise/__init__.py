"""Column-wise evaluation of a workbook's formulas with the `formulas` package (see runs.py)."""

from .refs import Unsupported
from .runs import evaluate_cells, formula_results

__all__ = ["Unsupported", "evaluate_cells", "formula_results"]
