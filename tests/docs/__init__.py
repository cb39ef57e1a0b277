"""The documentation site: built with Sphinx, opened in headless Chromium (``make docs``)."""
