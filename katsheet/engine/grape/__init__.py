"""GRAPE performance-based emissions (grape.md): weights, BASE/BONUS/EXCESS, the roster table."""
