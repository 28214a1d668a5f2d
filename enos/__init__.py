"""Enos: an experiment engine for OpenStack."""

__version__ = "0.1.0"
