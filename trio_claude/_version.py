"""Version numbers: the package's own and the Claude Code CLI it is built and tested against."""

__version__ = "0.1.0"

#: The ``@anthropic-ai/claude-code`` version that ``install-cli`` installs and CI tests against.
#: This is the one place the pin lives.
CLI_VERSION = "2.1.329"

#: Older CLIs may work but are untested; a warning is logged when one is detected.
MIN_CLI_VERSION = "2.1.0"
