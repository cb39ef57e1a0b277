"""Version numbers: the package's own and the Claude Code CLI it is built and tested against."""

__version__ = "0.1.0"

#: The ``@anthropic-ai/claude-code`` version that ``install-cli`` installs and CI tests against.
#: This is the one place the pin lives.
CLI_VERSION = "2.1.332"

#: The oldest CLI supported: the supported range is MIN_CLI_VERSION to CLI_VERSION, the versions
#: the end-to-end suite has passed with. An older CLI gets a warning when detected (``doctor``
#: fails); a newer one is untested but usually fine (``doctor`` warns).
MIN_CLI_VERSION = "2.1.329"
