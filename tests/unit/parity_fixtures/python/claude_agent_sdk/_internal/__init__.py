"""Fixture: the made-up package's internals."""
