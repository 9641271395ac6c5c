"""Shells that read and write files: CSV rosters and criteria tables, atomic writes."""
