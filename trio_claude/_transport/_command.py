"""From options to what the CLI is started with: argv, environment, ``initialize`` payload.

Pure functions: no process, no file system. Flag token forms follow the official Python SDK
0.2.190, so the argv of default options is byte-for-byte the official one:

* every valued option is one ``--flag=value`` argument: everything after the first ``=`` is the
  value, even when it is empty, starts with dashes or looks like another flag;
* except ``--settings``, two arguments (old CLIs ignore ``--settings=``); a settings path that
  starts with ``-`` becomes ``./-x.json``, the same file, which cannot be read as a flag;
* and the two forms that take text the caller wrote as a flag value, ``--mcp-config`` (a path or
  JSON) and ``extra_args``: two arguments, or ``--flag=value`` when the value starts with ``-``
  (``extra_args`` may name a flag declared without a value, which rejects ``--flag=value``).

Credentials stay off the command line, where every local user can read them
(``/proc/<pid>/cmdline``): by default the stdio/sse/http ``mcp_servers`` (their ``env`` and
``headers``) and inline ``settings`` are sent in the ``initialize`` request, which the CLI reads as
the first stdin line at start-up when given ``--await-initialize`` (``--initialize-fields=settings``
for the settings), as the official TypeScript SDK does with ``mcpServersDelivery`` /
``settingsDelivery: 'initialize'``. The CLI confirms it took them (``mcp_servers_applied``,
``settings_applied`` in its answer): :func:`check_initialize_reply`.
"""

from __future__ import annotations

import functools
import json
import operator
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._environ import Environment
from .._errors import CLIConnectionError, ConfigurationError
from .._option_spec import Built, Flag, Init, Switch
from .._options import (
    AgentDefinition,
    ClaudeAgentOptions,
    HookCallback,
    ThinkingConfigAdaptive,
    ThinkingConfigDisabled,
    ThinkingConfigEnabled,
    coerce_hook_matcher,
    is_sdk_server,
    tool_config_items,
)
from .._redact import RedactedDict, secret_values
from .._version import __version__
from ._base import Argv

__all__ = [
    "ENTRYPOINT",
    "HookRegistration",
    "build_argv",
    "build_env",
    "build_initialize",
    "check_initialize_reply",
    "initialize_mcp_servers",
    "initialize_settings",
    "mcp_config_json",
    "needs_open_stdin",
    "register_hooks",
    "session_secrets",
    "settings_value",
]

#: ``CLAUDE_CODE_ENTRYPOINT`` value: the official Python SDK's, so the CLI treats us alike.
ENTRYPOINT = "sdk-py"

#: Linux refuses a single argv string longer than this (``MAX_ARG_STRLEN``, 32 pages).
_MAX_ARG_BYTES = 128 * 1024

STREAM_JSON_PREFIX = ("--output-format", "stream-json", "--verbose")


def _value(argv: list[str], flag: str, value: object) -> None:
    """Append a valued flag as one ``--flag=value`` argument."""
    argv.append(f"{flag}={_text(value)}")


def _value_or_pair(argv: list[str], flag: str, value: object) -> None:
    """Append ``flag value`` (two arguments), or ``--flag=value`` when the value starts with
    ``-`` (so the CLI cannot read it as a flag)."""
    text = _text(value)
    if text.startswith("-"):
        argv.append(f"{flag}={text}")
    else:
        argv.extend((flag, text))


def _text(value: object) -> str:
    # A path's file-system text, and a str subclass's own characters (not an enum's name).
    if isinstance(value, (bytes, os.PathLike)):
        return os.fsdecode(value)
    return str.__str__(value) if isinstance(value, str) else str(value)


def _dumps(value: Any) -> str:
    # The stdlib's default separators, as the official SDK (the transcripts' exact bytes).
    return json.dumps(value)


def _effective_tools_and_sources(
    options: ClaudeAgentOptions,
) -> tuple[list[str], list[str] | None]:
    allowed = list(options.allowed_tools)
    sources: list[str] | None = (
        list(options.setting_sources) if options.setting_sources is not None else None
    )
    skills = options.skills
    if skills is None:
        return allowed, sources
    if skills == "all":
        if "Skill" not in allowed:
            allowed.append("Skill")
    else:
        for name in skills:
            entry = f"Skill({name})"
            if entry not in allowed:
                allowed.append(entry)
    if sources is None:
        sources = ["user", "project"]
    return allowed, sources


def mcp_config_json(servers: Mapping[str, Any]) -> str | None:
    """The ``--mcp-config`` JSON for a dict of servers (``None`` when there are none).

    In-process servers are declared as ``{"type": "sdk", "name": ...}`` without the instance;
    their traffic then arrives as ``mcp_message`` control requests.

    Args:
        servers: ``ClaudeAgentOptions.mcp_servers`` as a dict.

    Returns:
        ``{"mcpServers": {...}}`` as JSON, or ``None``.
    """
    wire: dict[str, Any] = {}
    for name, cfg in servers.items():
        if isinstance(cfg, Mapping):
            if cfg.get("type") == "sdk":
                wire[name] = {k: v for k, v in cfg.items() if k != "instance"}
            else:
                wire[name] = dict(cfg)
        elif is_sdk_server(cfg):
            wire[name] = {"type": "sdk", "name": getattr(cfg, "name", name)}
        else:
            raise ConfigurationError(f"mcp_servers[{name!r}] is not a server configuration")
    return _dumps({"mcpServers": wire}) if wire else None


def _mcp_delivery(options: ClaudeAgentOptions) -> tuple[str | None, dict[str, Any] | None]:
    """``(--mcp-config value, initialize mcpServers)`` for the options; either may be ``None``."""
    servers: Any = options.mcp_servers
    if isinstance(servers, str):
        parsed = _json_object(servers) if options.mcp_servers_delivery == "initialize" else None
        inner = parsed.get("mcpServers") if parsed is not None and len(parsed) == 1 else None
        if not isinstance(inner, dict):
            # A file path, or JSON of another shape: passed as given.
            return (servers or None), None
        servers = inner
    config = mcp_config_json(servers)  # validates every entry
    if options.mcp_servers_delivery == "argv" or config is None:
        return config, None
    external = {
        name: dict(cfg)
        for name, cfg in servers.items()
        if isinstance(cfg, Mapping) and not is_sdk_server(cfg)
    }
    if not external:
        return config, None
    in_process = {name: cfg for name, cfg in servers.items() if name not in external}
    return mcp_config_json(in_process), external


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.strip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def initialize_mcp_servers(options: ClaudeAgentOptions) -> dict[str, Any] | None:
    """The MCP servers sent in ``initialize`` (``mcpServers``) instead of ``--mcp-config``.

    With ``mcp_servers_delivery="initialize"`` (the default): the stdio/sse/http servers of
    ``mcp_servers`` (a dict, or a JSON string ``{"mcpServers": {...}}``). In-process servers stay
    in ``--mcp-config``; a config file path is passed as is.

    Args:
        options: The options.

    Returns:
        ``{name: config}``, or ``None`` when nothing is sent that way.
    """
    return _mcp_delivery(options)[1]


def initialize_settings(options: ClaudeAgentOptions) -> dict[str, Any] | None:
    """The settings sent in ``initialize`` (``settings``) instead of ``--settings``.

    With ``settings_delivery="initialize"`` (the default): the inline settings (a dict, or a
    JSON string of an object), ``sandbox`` merged in (see :func:`settings_value`). A settings
    file path, and a JSON string that does not parse to an object (the CLI reports it), go in
    ``--settings``.

    Args:
        options: The options.

    Returns:
        The settings object, or ``None`` when nothing is sent that way.

    Raises:
        ConfigurationError: As :func:`settings_value`.
    """
    if options.settings_delivery != "initialize":
        return None
    value = settings_value(options)
    return _json_object(value) if value is not None else None


def check_initialize_reply(options: ClaudeAgentOptions, reply: Mapping[str, Any]) -> str | None:
    """Checks that the CLI took what :func:`build_initialize` sent in place of flags.

    Args:
        options: The options the session was started with.
        reply: The CLI's answer to ``initialize`` (``ServerInfo.raw``).

    Returns:
        A warning to log, or ``None``: the CLI says it read the MCP servers at start-up but did
        not load them (``mcp_servers_applied: false``: a wrapper may have dropped
        ``--await-initialize``).

    Raises:
        CLIConnectionError: The settings were not confirmed (``settings_applied`` is not
            ``true``), or the CLI does not report ``mcp_servers_applied`` at all (it is older than
            this delivery and started without the servers).
    """
    version = reply.get("claude_code_version")
    which = f"This Claude Code ({version})" if isinstance(version, str) else "This Claude Code"
    if initialize_settings(options) is not None and reply.get("settings_applied") is not True:
        raise CLIConnectionError(
            f"{which} did not confirm the settings sent in the initialize request "
            "(settings_applied is not true), so the session was ended. Update the CLI "
            "(`python -m trio_claude install-cli`), check that no wrapper changes its flags or "
            "the initialize request, or pass settings_delivery='argv' (the settings then go on "
            "the command line, where other local users can read them)."
        )
    if _plugins_in_initialize(options) and reply.get("plugins_applied") is not True:
        return (
            "the CLI did not confirm loading the plugins sent in the initialize request "
            f"(plugins_applied: {reply.get('plugins_applied')!r}); check the plugin paths, or "
            "that no wrapper removes --await-initialize"
        )
    if initialize_mcp_servers(options) is not None:
        applied = reply.get("mcp_servers_applied")
        if not isinstance(applied, bool):
            raise CLIConnectionError(
                f"{which} is too old to read MCP servers from the initialize request, so it "
                "started without them; the session was ended. Update the CLI "
                "(`python -m trio_claude install-cli`) or pass mcp_servers_delivery='argv' (the "
                "servers' env and headers then go on the command line, where other local users "
                "can read them)."
            )
        if not applied:
            return (
                "the CLI did not load the MCP servers sent in the initialize request "
                "(mcp_servers_applied: false); check that no wrapper removes --await-initialize"
            )
    return None


def settings_value(options: ClaudeAgentOptions) -> str | None:
    """The ``--settings`` value: the settings as given, with ``sandbox`` merged in.

    A settings file path is passed as is. With ``sandbox`` the settings must be inline (a dict or
    a JSON string); the sandbox replaces the ``"sandbox"`` key, and ``enabled: True`` without
    ``failIfUnavailable`` gets ``failIfUnavailable: True`` (fail closed, as the official
    TypeScript SDK).

    Args:
        options: The options.

    Returns:
        The value, or ``None`` when neither ``settings`` nor ``sandbox`` is set.

    Raises:
        ConfigurationError: For a settings file path together with ``sandbox``, or inline JSON
            that does not parse to an object.
    """
    settings, sandbox = options.settings, options.sandbox
    if sandbox is None:
        if settings is None or isinstance(settings, str):
            return settings
        return _dumps(settings)
    merged: dict[str, Any]
    if settings is None:
        merged = {}
    elif isinstance(settings, str):
        if not settings.strip().startswith("{"):
            raise ConfigurationError(
                "sandbox cannot be combined with a settings file path; pass settings inline"
            )
        try:
            parsed = json.loads(settings)
        except ValueError as exc:
            raise ConfigurationError(f"settings is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ConfigurationError("settings JSON must be an object")
        merged = parsed
    else:
        merged = dict(settings)
    box = dict(sandbox)
    if box.get("enabled") is True and "failIfUnavailable" not in box:
        box["failIfUnavailable"] = True
    merged["sandbox"] = box
    return _dumps(merged)


def _thinking_flags(argv: list[str], options: ClaudeAgentOptions) -> None:
    t = options.thinking
    if t is None:
        if options.max_thinking_tokens is not None:
            _value(argv, "--max-thinking-tokens", options.max_thinking_tokens)
        return
    display: Any = None
    if isinstance(t, ThinkingConfigAdaptive):
        _value(argv, "--thinking", "adaptive")
        display = t.display
    elif isinstance(t, ThinkingConfigEnabled):
        _value(argv, "--max-thinking-tokens", t.budget_tokens)
        display = t.display
    elif isinstance(t, ThinkingConfigDisabled):
        _value(argv, "--thinking", "disabled")
    else:
        kind = t.get("type")
        if kind == "adaptive":
            _value(argv, "--thinking", "adaptive")
        elif kind == "enabled":
            budget = t.get("budget_tokens", t.get("budgetTokens"))
            if budget is None:
                raise ConfigurationError("thinking {'type': 'enabled'} needs budget_tokens")
            _value(argv, "--max-thinking-tokens", budget)
        elif kind == "disabled":
            _value(argv, "--thinking", "disabled")
        else:
            raise ConfigurationError(f"thinking type {kind!r} is not supported")
        display = t.get("display") if kind != "disabled" else None
    if display is not None:
        _value(argv, "--thinking-display", display)


def _system_prompt_flags(
    argv: list[str], sp: str | tuple[str, ...] | Mapping[str, Any] | None
) -> None:
    if sp is None:
        _value(argv, "--system-prompt", "")
    elif isinstance(sp, tuple):
        pass  # blocks: sent in initialize (systemPrompt), as the TypeScript SDK does
    elif isinstance(sp, str):
        _value(argv, "--system-prompt", sp)
    else:
        kind = sp.get("type")
        if kind == "custom":
            _value(argv, "--system-prompt", sp["prompt"])
        elif kind == "file":
            _value(argv, "--system-prompt-file", sp["path"])
        elif kind == "preset":
            if sp.get("append") is not None:
                _value(argv, "--append-system-prompt", sp["append"])
        else:
            raise ConfigurationError(f"system_prompt type {kind!r} is not supported")


#: A CLI path with one of these endings is a script for a JavaScript runtime (``executable``).
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx")


def _launcher(options: ClaudeAgentOptions, cli_path: str) -> list[str]:
    """``argv``'s head: the CLI, or the JavaScript runtime and its arguments before a script CLI
    (the TypeScript SDK's ``executable`` / ``executableArgs``)."""
    if cli_path.endswith(SCRIPT_SUFFIXES):
        runtime = options.executable or "node"
        return [runtime, *options.executable_args, cli_path]
    return [cli_path, *options.executable_args]


def _plugins_in_initialize(options: ClaudeAgentOptions) -> bool:
    return options.plugin_delivery == "initialize" and bool(options.plugins)


def _managed_settings_in_initialize(options: ClaudeAgentOptions) -> bool:
    return (
        options.managed_settings_delivery == "initialize" and options.managed_settings is not None
    )


def initialize_fields(options: ClaudeAgentOptions) -> list[str]:
    """The ``--initialize-fields`` names: options sent in ``initialize`` in place of their flags
    (``settings``, ``disallowedTools``, ``additionalDirectories``), in the CLI's order."""
    fields = []
    if initialize_settings(options) is not None:
        fields.append("settings")
    if options.disallowed_tools_delivery == "initialize" and options.disallowed_tools:
        fields.append("disallowedTools")
    if options.additional_directories_delivery == "initialize" and options.add_dirs:
        fields.append("additionalDirectories")
    return fields


def build_argv(options: ClaudeAgentOptions, cli_path: str) -> Argv:
    """The command line that starts the CLI for these options.

    Driven by each option's description (its ``argv`` metadata, see ``_option_spec.py``): a
    :class:`Flag`, :class:`Switch` or :class:`Joined` is written here; a :class:`Built` one by
    its builder in ``_ARGV_BUILDERS`` (once, however many options share it), in the order the
    options are declared.

    Args:
        options: Validated options (see :func:`~trio_claude._options.validate_options`).
        cli_path: The ``claude`` binary (``argv[0]``).

    Returns:
        ``[cli_path, "--output-format", "stream-json", "--verbose", ..., "--input-format",
        "stream-json"]``. Never run through a shell.

    Raises:
        ConfigurationError: If a value cannot be mapped, or one argument is longer than the OS
            allows (the message names the flag).
    """
    argv = Argv((*_launcher(options, cli_path), *STREAM_JSON_PREFIX))
    values_of, steps = _argv_plan()
    for (kind, spec), value in zip(steps, values_of(options), strict=True):
        if kind is _BUILT:
            spec(argv, options)
        elif kind is _FLAG:
            if value is not None:
                _value(argv, spec.flag, spec.value(value) if spec.value else value)
        elif kind is _SWITCH:
            if (value is not None) if spec.when == "set" else (value is spec.when):
                argv.append(spec.flag)
        elif value:  # Joined
            _value(argv, spec.flag, ",".join(value))
    argv.extend(("--input-format", "stream-json"))
    _check_lengths(argv)
    return argv


_BUILT, _FLAG, _SWITCH, _JOINED = "built", "flag", "switch", "joined"
_Plan = tuple[Callable[[ClaudeAgentOptions], tuple[Any, ...]], tuple[tuple[str, Any], ...]]


def _plan(key: str, builders: Mapping[str, Callable[..., None]], done: Iterable[str] = ()) -> _Plan:
    """The steps of the options with a ``key`` (``"argv"`` or ``"init"``) description, in
    declaration order, and one getter of their values: a :class:`Built` one once per builder
    (as its builder) unless ``done`` names it, the others as ``(kind, spec)``. Worked out once,
    not at every open."""
    names: list[str] = []
    steps: list[tuple[str, Any]] = []
    built = set(done)
    for field in attrs.fields(ClaudeAgentOptions):
        spec = field.metadata[key]
        if spec is None:
            continue
        if isinstance(spec, Built):
            if spec.builder in built:
                continue
            built.add(spec.builder)
            steps.append((_BUILT, builders[spec.builder]))
        elif isinstance(spec, (Flag, Init)):
            steps.append((_FLAG, spec))
        else:
            steps.append((_SWITCH if isinstance(spec, Switch) else _JOINED, spec))
        names.append(field.name)
    assert len(names) > 1  # attrgetter of one name gives the value, not a 1-tuple
    return operator.attrgetter(*names), tuple(steps)


@functools.cache
def _argv_plan() -> _Plan:
    return _plan("argv", _ARGV_BUILDERS)


@functools.cache
def _init_plan() -> _Plan:
    return _plan("init", _INIT_BUILDERS, done=("hooks",))  # build_initialize writes it first


# The builders of options whose flags depend on other options: each writes its flags to argv.


def _tools_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    if o.tools is None:
        return
    if isinstance(o.tools, Mapping):
        _value(argv, "--tools", "default")
        return
    tools = list(o.tools)
    if o.skills is not None and "Skill" not in tools:
        tools.append("Skill")
    _value(argv, "--tools", ",".join(tools))


def _allowed_tools_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    allowed, _ = _effective_tools_and_sources(o)
    if allowed:
        _value(argv, "--allowedTools", ",".join(allowed))


def _disallowed_tools_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    if o.disallowed_tools and o.disallowed_tools_delivery == "argv":
        _value(argv, "--disallowedTools", ",".join(o.disallowed_tools))


def _permission_prompt_tool_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    prompt_tool = "stdio" if o.can_use_tool is not None else o.permission_prompt_tool_name
    if prompt_tool:
        _value(argv, "--permission-prompt-tool", prompt_tool)


def _output_format_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    if o.output_format is not None:
        schema = o.output_format.get("schema")
        if schema is not None:
            _value(argv, "--json-schema", _dumps(schema))


def _mcp_config_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    config, _ = _mcp_delivery(o)
    if config is not None:
        _value_or_pair(argv, "--mcp-config", config)


def _add_dir_flags(argv: list[str], o: ClaudeAgentOptions) -> None:
    if o.additional_directories_delivery == "argv":
        for directory in o.add_dirs:
            _value(argv, "--add-dir", directory)


def _settings_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    settings = settings_value(o)
    if settings is not None and initialize_settings(o) is None:
        # Two arguments: CLIs up to 2.0.69 ignore --settings=; "./" keeps a path that starts
        # with "-" the same file without it being read as a flag.
        argv.extend(("--settings", "./" + settings if settings.startswith("-") else settings))


def _setting_sources_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    _, sources = _effective_tools_and_sources(o)
    if sources is not None:
        _value(argv, "--setting-sources", ",".join(sources))


def _plugin_flags(argv: list[str], o: ClaudeAgentOptions) -> None:
    if not _plugins_in_initialize(o):
        for plugin in o.plugins:
            skip_mcp = plugin.get("skip_mcp_discovery", plugin.get("skipMcpDiscovery", False))
            _value(argv, "--plugin-dir-no-mcp" if skip_mcp else "--plugin-dir", plugin["path"])


def _extra_args_flags(argv: list[str], o: ClaudeAgentOptions) -> None:
    for flag, value in o.extra_args.items():
        if value is None:
            argv.append(f"--{flag}")
        else:
            _value_or_pair(argv, f"--{flag}", value)


def _managed_settings_flag(argv: list[str], o: ClaudeAgentOptions) -> None:
    if o.managed_settings is not None:
        if _managed_settings_in_initialize(o):
            argv.append("--managed-settings-in-initialize")
        else:
            _value_or_pair(argv, "--managed-settings", _dumps(o.managed_settings))


def _await_initialize_flags(argv: list[str], o: ClaudeAgentOptions) -> None:
    """Read the initialize request (the first stdin line) at start-up, when it carries options
    in place of their flags, so they apply as the flags would."""
    fields = initialize_fields(o)
    if (
        initialize_mcp_servers(o) is not None
        or fields
        or _plugins_in_initialize(o)
        or _managed_settings_in_initialize(o)
    ):
        argv.append("--await-initialize")
    if fields:
        _value(argv, "--initialize-fields", ",".join(fields))


_ARGV_BUILDERS: dict[str, Callable[[list[str], ClaudeAgentOptions], None]] = {
    "tools": _tools_flag,
    "allowed_tools": _allowed_tools_flag,
    "disallowed_tools": _disallowed_tools_flag,
    "permission_prompt_tool": _permission_prompt_tool_flag,
    "system_prompt": lambda argv, o: _system_prompt_flags(argv, o.system_prompt),
    "thinking": _thinking_flags,
    "output_format": _output_format_flag,
    "mcp_servers": _mcp_config_flag,
    "add_dirs": _add_dir_flags,
    "settings": _settings_flag,
    "setting_sources": _setting_sources_flag,
    "plugins": _plugin_flags,
    "extra_args": _extra_args_flags,
    "managed_settings": _managed_settings_flag,
    "await_initialize": _await_initialize_flags,
}


def _check_lengths(argv: Sequence[str]) -> None:
    for index, arg in enumerate(argv):
        size = len(arg.encode("utf-8", "surrogateescape"))
        if size <= _MAX_ARG_BYTES:
            continue
        before = argv[index - 1] if index else ""
        # The flag's name, never a value (the argument before may be one: a credential).
        flag = (
            arg.split("=", 1)[0]
            if arg.startswith("--")
            else (before if before.startswith("-") else "an argument")
        )
        hint = ""
        if flag == "--system-prompt":
            hint = "; use system_prompt={'type': 'file', 'path': ...} for a long prompt"
        raise ConfigurationError(
            f"the value of {flag} is {size} bytes, more than the {_MAX_ARG_BYTES} bytes the OS "
            f"accepts for one command-line argument{hint}"
        )


def command_too_long(argv: Sequence[str], env: Mapping[str, str]) -> ConfigurationError:
    """What the OS's ``E2BIG`` at spawn means: every argument fits, but the command line and the
    environment together are over the kernel's total (``ARG_MAX``). Names the biggest parts (the
    flags, and the variables by name: their values may be secrets)."""

    def size(text: str) -> int:
        return len(text.encode("utf-8", "surrogateescape")) + 1

    parts: list[tuple[int, str]] = []
    for index, arg in enumerate(argv):
        if index == 0 or arg.startswith("--"):
            continue
        before = argv[index - 1]
        parts.append((size(arg), before if before.startswith("--") else "an argument"))
    parts += [(size(f"{k}={v}"), f"the variable {k}") for k, v in env.items()]
    total = sum(map(size, argv)) + sum(size(f"{k}={v}") for k, v in env.items())
    biggest = ", ".join(f"{what} ({n // 1024} KiB)" for n, what in sorted(parts, reverse=True)[:3])
    return ConfigurationError(
        f"the CLI's command line and environment ({total // 1024} KiB) are more than the OS "
        f"accepts for a new process; the biggest: {biggest}. Pass a long system prompt as "
        "system_prompt={'type': 'file', 'path': ...}, agents and settings as files, and keep "
        "big values out of env"
    )


def build_env(options: ClaudeAgentOptions, base_env: Mapping[str, str]) -> Environment:
    """The CLI's environment.

    The parent environment without nesting markers (``CLAUDECODE``,
    ``CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP``); ``CLAUDE_CODE_ENTRYPOINT=sdk-py`` (``env`` may
    override it); ``options.env`` merged over; then, not overridable:
    ``CLAUDE_AGENT_SDK_VERSION`` (trio-claude's version), ``CLAUDE_CODE_SDK_READS_SESSION_STATE=1``
    (unless ``env`` sets some case variant of it), ``CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING``,
    ``PWD`` and ``CLAUDE_AGENT_SDK_CLIENT_APP``.

    Args:
        options: The options.
        base_env: The parent environment, normally ``os.environ``.

    Returns:
        A new :class:`~trio_claude._environ.Environment` (a dict whose repr shows no value).
    """
    env = Environment(base_env)
    env.pop("CLAUDECODE", None)
    env.pop("CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP", None)
    env["CLAUDE_CODE_ENTRYPOINT"] = ENTRYPOINT
    env.update(options.env)
    env["CLAUDE_AGENT_SDK_VERSION"] = __version__
    if "CLAUDE_CODE_SDK_READS_SESSION_STATE" not in map(str.upper, env):
        env["CLAUDE_CODE_SDK_READS_SESSION_STATE"] = "1"
    if options.enable_file_checkpointing:
        env["CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING"] = "true"
    if options.cwd is not None:
        env["PWD"] = options.cwd
    if options.client_app is not None:
        env["CLAUDE_AGENT_SDK_CLIENT_APP"] = options.client_app
    if options.tool_config is not None:
        for (tool, key), value in tool_config_items(options.tool_config).items():
            env[_TOOL_CONFIG_ENV[(tool, key)]] = str(value)
    return env


#: What :func:`build_env` sets whatever the parent environment holds.
_SDK_ENV = frozenset(
    {"CLAUDE_CODE_ENTRYPOINT", "CLAUDE_AGENT_SDK_VERSION", "CLAUDE_CODE_SDK_READS_SESSION_STATE"}
)


def own_env_names(
    options: ClaudeAgentOptions, env: Mapping[str, str], base_env: Mapping[str, str]
) -> frozenset[str]:
    """The names of ``env`` (made by :func:`build_env` from ``base_env``) the session set
    itself: ``options.env``'s, the SDK's own, and any whose value differs from ``base_env``'s
    (``LaunchSpec.own_env``)."""
    return frozenset(
        name
        for name, value in env.items()
        if name in options.env or name in _SDK_ENV or base_env.get(name) != value
    )


def session_secrets(options: ClaudeAgentOptions, env: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values of a session (see :func:`~trio_claude._redact.secret_values`): masked
    by value wherever the session shows text that may quote them (the CLI's stderr and error
    texts, callback failures, spans).

    Args:
        options: The session's options: the secrets of ``mcp_servers``, ``settings``,
            ``managed_settings``, ``extra_args``, ``extra_initialize_fields`` and ``agents``
            (their inline MCP servers).
        env: The CLI's environment (``LaunchSpec.env``).

    Returns:
        The values, longest first.
    """
    return secret_values(
        env,
        options.mcp_servers,
        options.settings,
        options.managed_settings,
        options.extra_args,
        options.extra_initialize_fields,
        options.agents,
    )


#: The CLI's environment variable for each ``tool_config`` setting.
_TOOL_CONFIG_ENV = {("askUserQuestion", "previewFormat"): "CLAUDE_CODE_QUESTION_PREVIEW_FORMAT"}


@attrs.frozen
class HookRegistration:
    """Hook callbacks numbered for the wire.

    Attributes:
        ids: ``{event: [[callback ids of matcher 0], [.. of matcher 1], ...]}``.
        callbacks: ``{callback id: callback}``, what ``hook_callback`` requests are routed by.
    """

    ids: dict[str, list[list[str]]]
    callbacks: dict[str, HookCallback]


def register_hooks(hooks: Mapping[str, Sequence[Any]] | None) -> HookRegistration:
    """Number hook callbacks ``hook_0``, ``hook_1``, ... (event, matcher, callback order).

    Deterministic: calling it twice on the same hooks gives the same ids, so the ids sent in
    ``initialize`` and the routing table always agree.

    Args:
        hooks: ``ClaudeAgentOptions.hooks``.

    Returns:
        The ids per event and matcher, and the id -> callback table.
    """
    ids: dict[str, list[list[str]]] = {}
    callbacks: dict[str, HookCallback] = {}
    for event, matchers in (hooks or {}).items():
        per_event: list[list[str]] = []
        for matcher in matchers:
            m = coerce_hook_matcher(matcher, event=event)
            matcher_ids = []
            for callback in m.hooks:
                callback_id = f"hook_{len(callbacks)}"
                callbacks[callback_id] = callback
                matcher_ids.append(callback_id)
            per_event.append(matcher_ids)
        ids[event] = per_event
    return HookRegistration(ids=ids, callbacks=callbacks)


def _hooks_wire(
    hooks: Mapping[str, Sequence[Any]] | None, ids: Mapping[str, Sequence[Sequence[str]]]
) -> dict[str, list[dict[str, Any]]] | None:
    if not hooks:
        return None
    wire: dict[str, list[dict[str, Any]]] = {}
    for event, matchers in hooks.items():
        entries: list[dict[str, Any]] = []
        for index, matcher in enumerate(matchers):
            m = coerce_hook_matcher(matcher, event=event)
            entry: dict[str, Any] = {
                "matcher": m.matcher,
                "hookCallbackIds": list(ids[event][index]),
            }
            if m.timeout is not None:
                entry["timeout"] = m.timeout
            if m.on_failure is not None:
                entry["onFailure"] = m.on_failure
            entries.append(entry)
        wire[event] = entries
    return wire or None


def build_initialize(
    options: ClaudeAgentOptions,
    hook_callback_ids: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> dict[str, Any]:
    """The ``initialize`` control request (the ``request`` object, without the envelope).

    Args:
        options: The options.
        hook_callback_ids: The callback ids per event and matcher (``register_hooks(...).ids``);
            computed with :func:`register_hooks` when omitted.

    Returns:
        ``{"subtype": "initialize", "hooks": None | {...}, ...}``; absent options are omitted
        (``hooks`` is always present, ``None`` without hooks, as the official SDK sends it).
        A :class:`~trio_claude._redact.RedactedDict`: its repr masks credentials.
        ``mcpServers`` and ``settings`` carry what :func:`initialize_mcp_servers` and
        :func:`initialize_settings` keep off the command line (:func:`build_argv` then adds
        ``--await-initialize``).
    """
    o = options
    ids = hook_callback_ids if hook_callback_ids is not None else register_hooks(o.hooks).ids
    # Its repr masks credentials (MCP servers' headers, agents' env): tracebacks show it.
    request = RedactedDict(subtype="initialize", hooks=_hooks_wire(o.hooks, ids))
    values_of, steps = _init_plan()
    for (kind, spec), value in zip(steps, values_of(o), strict=True):
        if kind is _BUILT:
            spec(request, o)
            continue
        if value is None or (spec.only_true and value is not True):
            continue
        value = spec.value(value) if spec.value else value
        if value is not None:
            request[spec.key] = value
    # Last: what the caller adds wins.
    for key, value in o.extra_initialize_fields.items():
        if key != "subtype":
            request[key] = value
    return request


# The builders of initialize fields that depend on several options, or take their shape.


def _init_system_prompt(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    sp = o.system_prompt
    if isinstance(sp, tuple):
        request["systemPrompt"] = list(sp)
    elif isinstance(sp, Mapping):
        if sp.get("type") == "preset" and sp.get("exclude_dynamic_sections") is not None:
            request["excludeDynamicSections"] = sp["exclude_dynamic_sections"]
        if sp.get("type") in ("preset", "custom") and sp.get("snapshot") is not None:
            request["systemPromptSnapshot"] = sp["snapshot"]


def _init_agents(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    if o.agents:
        request["agents"] = {
            name: (
                agent
                if isinstance(agent, AgentDefinition)
                else AgentDefinition.from_dict(agent, name=name)
            ).to_wire()
            for name, agent in o.agents.items()
        }


def _init_mcp_servers(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    servers = initialize_mcp_servers(o)
    if servers is not None:
        request["mcpServers"] = servers


def _init_settings(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    settings = initialize_settings(o)
    if settings is not None:
        request["settings"] = settings


def _init_plugins(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    if _plugins_in_initialize(o):
        request["plugins"] = [
            {k: os.fspath(v) if k == "path" else v for k, v in plugin.items()}
            for plugin in o.plugins
        ]


def _init_managed_settings(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    if _managed_settings_in_initialize(o):
        request["managedSettings"] = o.managed_settings


def _init_disallowed_tools(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    if o.disallowed_tools_delivery == "initialize" and o.disallowed_tools:
        request["disallowedTools"] = list(o.disallowed_tools)


def _init_add_dirs(request: dict[str, Any], o: ClaudeAgentOptions) -> None:
    if o.additional_directories_delivery == "initialize" and o.add_dirs:
        request["additionalDirectories"] = list(o.add_dirs)


_INIT_BUILDERS: dict[str, Callable[[dict[str, Any], ClaudeAgentOptions], None]] = {
    "system_prompt": _init_system_prompt,
    "agents": _init_agents,
    "mcp_servers": _init_mcp_servers,
    "settings": _init_settings,
    "plugins": _init_plugins,
    "managed_settings": _init_managed_settings,
    "disallowed_tools": _init_disallowed_tools,
    "add_dirs": _init_add_dirs,
    "extra_initialize_fields": lambda request, o: None,  # applied last, in build_initialize
}


def needs_open_stdin(options: ClaudeAgentOptions) -> bool:
    """Whether the CLI may send requests the SDK must answer, so stdin must stay open.

    True with hooks, ``can_use_tool``, in-process MCP servers, ``on_elicitation`` or
    ``on_user_dialog``.

    Args:
        options: The options.

    Returns:
        Whether a one-shot run must keep stdin open until the run is idle.
    """
    if (
        options.hooks
        or options.can_use_tool is not None
        or options.on_elicitation is not None
        or options.on_user_dialog is not None
    ):
        return True
    servers = options.mcp_servers
    return isinstance(servers, Mapping) and any(is_sdk_server(c) for c in servers.values())
