"""The names of katsheet's Excel functions, in one place: the functions themselves (udfs.py), the
checker's registration with `formulas`, the check of sheets that call them, and the xlwings Lite
bundle all read this list. No imports: it travels into the Lite bundle with udfs.py."""

FUNCTIONS = ("GRAPE_WEIGHT", "GRAPE_LEVEL", "GRAPE_ALLOCATE", "GRAPE_SUMMARY", "KAT_LEVEL", "KAT_SETTLE")
