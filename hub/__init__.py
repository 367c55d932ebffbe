"""LaporHub: takes citizen complaints in, classifies them, routes them by rules and delivers them."""

__version__ = "0.1.0"
