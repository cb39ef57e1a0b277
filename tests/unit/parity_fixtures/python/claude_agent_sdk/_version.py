"""Fixture: the version of the made-up official package."""

__version__ = "0.0.1+fixture"
