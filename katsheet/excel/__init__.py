"""Packaging the Excel functions: the classic xlwings add-in workbook and the xlwings Lite bundle."""
