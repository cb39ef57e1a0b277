"""Maintainer scripts (not part of the trio_claude package); see tools/README.md."""
