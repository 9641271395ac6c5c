"""Shells around the layouts: the writer (and, next, the reader and the checker)."""
