"""Declarative workbook layouts: one description per template drives writer, reader and checker."""
