"""katsheet: exact GRAPE emissions for DAO treasurers, in Python and in their spreadsheets."""

__version__ = "0.1.0"
