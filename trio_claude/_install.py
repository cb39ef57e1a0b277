"""Installing the pinned Claude Code CLI with npm, and gathering ``doctor`` data.

Synchronous on purpose: both run from the command line (``python -m trio_claude install-cli`` /
``doctor``), before any trio loop exists. Async code should call them through
``trio.to_thread.run_sync``.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import attrs

from ._environ import environ
from ._errors import ClaudeSDKError, CLINotFoundError
from ._transport._discovery import (
    NPM_PACKAGE,
    default_install_dir,
    find_cli,
    installed_cli_path,
)
from ._version import CLI_VERSION, MIN_CLI_VERSION, __version__

__all__ = [
    "EXTRA_DOCTOR_CHECKS",
    "FAKE_SESSION_TIMEOUT",
    "CLIInstallError",
    "DoctorCheck",
    "check_fake_model_session",
    "cli_version",
    "install_cli",
    "parse_version",
    "run_doctor",
]

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
#: How long ``npm install`` may take before we give up.
NPM_TIMEOUT = 600.0


class CLIInstallError(ClaudeSDKError):
    """Installing the Claude Code CLI failed (npm missing, npm failed, or the result is broken)."""


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The first ``X.Y.Z`` in ``text`` as a tuple, or ``None``.

    Args:
        text: For example ``"2.1.329 (Claude Code)"``.

    Returns:
        ``(2, 1, 329)``, or ``None`` when there is no version.
    """
    match = _VERSION_RE.search(text)
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def _run(argv: list[str], *, timeout: float, cwd: str | None = None) -> tuple[int, str, str]:
    proc = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _version_output(binary: str | os.PathLike[str], timeout: float = 15.0) -> str | None:
    try:
        code, out, _ = _run([os.fspath(binary), "--version"], timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() if code == 0 else None


def cli_version(binary: str | os.PathLike[str], *, timeout: float = 15.0) -> str | None:
    """The version a ``claude`` binary reports (``claude --version``).

    Args:
        binary: The binary.
        timeout: Seconds to wait for it.

    Returns:
        ``"2.1.329"``, or ``None`` when it cannot be run or prints no version.
    """
    out = _version_output(binary, timeout)
    if out is None:
        return None
    version = parse_version(out)
    return None if version is None else ".".join(map(str, version))


def _is_executable_file(path: Path) -> bool:
    try:
        return path.is_file() and os.access(path, os.X_OK)
    except OSError:
        return False


def _resolve_program(name: str) -> str | None:
    if os.sep in name or (os.altsep is not None and os.altsep in name):
        return name if _is_executable_file(Path(name)) else None
    return shutil.which(name)


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run_postinstall(prefix: Path) -> None:
    """Run the package's own postinstall if npm skipped it (``ignore-scripts``)."""
    package = prefix / "node_modules" / "@anthropic-ai" / "claude-code"
    script = package / "install.cjs"
    node = shutil.which("node")
    if node is None or not script.is_file():
        return
    try:
        _run([node, str(script)], timeout=120.0, cwd=str(package))
    except (OSError, subprocess.SubprocessError):
        pass


def install_cli(
    version: str = CLI_VERSION,
    directory: str | os.PathLike[str] | None = None,
    *,
    npm: str = "npm",
    timeout: float = NPM_TIMEOUT,
) -> Path:
    """Install ``@anthropic-ai/claude-code@<version>`` with npm, unless it is already there.

    When ``<directory>/node_modules/.bin/claude`` exists and reports ``version``, nothing is done
    (this takes milliseconds). Otherwise ``npm install --no-audit --no-fund --prefix <directory>
    @anthropic-ai/claude-code@<version>`` runs (no shell). A directory that does not exist yet is
    filled in a temporary sibling and renamed into place, so a failed or concurrent install
    never leaves a half-installed CLI where :func:`~trio_claude._transport._discovery.find_cli`
    looks.

    Args:
        version: The CLI version (default: the pinned one).
        directory: The npm prefix (default: ``default_install_dir(version)`` in the user cache).
        npm: The npm executable (a name on ``PATH`` or a path).
        timeout: Seconds ``npm install`` may take.

    Returns:
        The path of the installed ``claude`` binary.

    Raises:
        CLIInstallError: When npm is missing, fails, or the installed binary does not report
            ``<version> (Claude Code)``.
    """
    target = Path(directory).expanduser() if directory is not None else default_install_dir(version)
    binary = installed_cli_path(target)
    if _is_executable_file(binary) and cli_version(binary) == version:
        return binary

    npm_path = _resolve_program(npm)
    if npm_path is None:
        raise CLIInstallError(
            f"npm not found ({npm!r}). The Claude Code CLI is installed from the npm registry: "
            "install Node.js and npm (https://nodejs.org/ or your system's package manager, "
            "e.g. `apt-get install nodejs npm`), then run `python -m trio_claude install-cli` "
            "again."
        )

    fresh = not target.exists()
    work = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:12]}" if fresh else target
    work.mkdir(parents=True, exist_ok=True)
    try:
        argv = [
            npm_path,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(work),
            f"{NPM_PACKAGE}@{version}",
        ]
        try:
            code, out, err = _run(argv, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CLIInstallError(f"npm install did not finish within {timeout:g} s") from None
        except OSError as exc:
            raise CLIInstallError(f"could not run npm ({npm_path}): {exc}") from exc
        if code != 0:
            raise CLIInstallError(
                f"npm install {NPM_PACKAGE}@{version} failed (exit code {code}):\n"
                f"{_tail(err or out)}"
            )
        if cli_version(installed_cli_path(work)) != version:
            _run_postinstall(work)
        if fresh:
            try:
                work.rename(target)
            except OSError:
                pass  # Another install won the race (or left a directory); check it below.
    finally:
        if fresh and work.exists():
            shutil.rmtree(work, ignore_errors=True)

    out_text = _version_output(binary) if _is_executable_file(binary) else None
    expected = f"{version} (Claude Code)"
    if out_text is None or not out_text.startswith(expected):
        raise CLIInstallError(
            f"installed {NPM_PACKAGE}@{version} into {target}, but `{binary} --version` printed "
            f"{out_text!r} instead of {expected!r}"
        )
    return binary


# --------------------------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------------------------

Status = Literal["ok", "warn", "fail", "info"]


@attrs.frozen
class DoctorCheck:
    """One line of the ``doctor`` report.

    Attributes:
        name: What was checked.
        status: ``"ok"``, ``"warn"``, ``"fail"`` (makes ``doctor`` exit non-zero) or ``"info"``.
        detail: What was found. Never contains a secret.
    """

    name: str
    status: Status
    detail: str


#: A doctor check: returns one or more results. It must not print secrets.
DoctorCheckFunction = Callable[[], "DoctorCheck | Iterable[DoctorCheck]"]

#: Extra checks ``doctor`` runs after the built-in ones (append to register one, e.g. a
#: fake-model session that must complete). An exception in a check becomes a ``fail`` line.
EXTRA_DOCTOR_CHECKS: list[DoctorCheckFunction] = []

#: Environment variables holding credentials: reported as set or not, never shown.
_SECRET_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")


def _redact_url(url: str) -> str:
    """The URL without its user info, query and fragment (any of them may carry a credential:
    ``?key=...``, ``?api_token=...``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "set (unparseable, not shown)"
    _, at, host = parts.netloc.rpartition("@")
    path = parts.path
    if not parts.netloc and "@" in path:  # no "//": "user:password@host" reads as a path
        path = "***@" + path.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"***@{host}" if at else host, path, "", ""))


def _tool_check(name: str, purpose: str) -> DoctorCheck:
    path = shutil.which(name)
    if path is None:
        return DoctorCheck(name, "warn", f"not found on PATH ({purpose})")
    version = _version_output(path) or "version unknown"
    return DoctorCheck(name, "ok", f"{version} at {path}")


def _cli_checks(env: Mapping[str, str]) -> list[DoctorCheck]:
    try:
        cli = find_cli(env=env)
    except CLINotFoundError as exc:
        return [DoctorCheck("claude CLI", "fail", str(exc))]
    checks = [DoctorCheck("claude CLI", "ok", cli)]
    out = _version_output(cli)
    found = parse_version(out) if out else None
    pin = parse_version(CLI_VERSION)
    minimum = parse_version(MIN_CLI_VERSION)
    if found is None:
        checks.append(
            DoctorCheck("claude version", "fail", f"`{cli} --version` failed or printed {out!r}")
        )
    elif found == pin:
        checks.append(DoctorCheck("claude version", "ok", f"{out} (the pinned version)"))
    elif minimum is not None and pin is not None and minimum <= found < pin:
        checks.append(
            DoctorCheck(
                "claude version",
                "ok",
                f"{out} (supported: {MIN_CLI_VERSION} to {CLI_VERSION}; pinned {CLI_VERSION})",
            )
        )
    elif minimum is not None and found < minimum:
        checks.append(
            DoctorCheck(
                "claude version",
                "fail",
                f"{out} is older than the minimum {MIN_CLI_VERSION}; "
                "run `python -m trio_claude install-cli`",
            )
        )
    else:
        checks.append(
            DoctorCheck(
                "claude version",
                "warn",
                f"{out} is newer than {CLI_VERSION}, the newest version trio-claude is tested "
                f"with (supported: {MIN_CLI_VERSION} to {CLI_VERSION}; "
                "`python -m trio_claude install-cli` installs the pinned one)",
            )
        )
    return checks


def _environment_checks(env: Mapping[str, str]) -> list[DoctorCheck]:
    checks = []
    for var in _SECRET_VARS:
        state = "set (redacted)" if env.get(var) else "not set"
        checks.append(DoctorCheck(var, "info", state))
    base_url = env.get("ANTHROPIC_BASE_URL")
    if base_url:
        checks.append(DoctorCheck("ANTHROPIC_BASE_URL", "info", _redact_url(base_url)))
    if "CLAUDECODE" in env:
        checks.append(
            DoctorCheck(
                "CLAUDECODE",
                "info",
                "set (running inside Claude Code); trio-claude removes it from the CLI's "
                "environment",
            )
        )
    return checks


def run_doctor(
    env: Mapping[str, str] | None = None,
    *,
    extra_checks: Iterable[DoctorCheckFunction] | None = None,
) -> list[DoctorCheck]:
    """Gather the ``doctor`` report.

    Args:
        env: The environment to inspect (default: ``os.environ``).
        extra_checks: Checks to run after the built-in ones (default:
            :data:`EXTRA_DOCTOR_CHECKS`).

    Returns:
        The checks, in order. Any ``fail`` means trio-claude cannot work as configured.
    """
    env = environ() if env is None else env
    import trio

    checks = [
        DoctorCheck(
            "python", "info", f"{platform.python_version()} ({sys.executable}) on {sys.platform}"
        ),
        DoctorCheck(
            "trio-claude",
            "info",
            f"{__version__} (pinned CLI {CLI_VERSION}, minimum {MIN_CLI_VERSION})",
        ),
        DoctorCheck("trio", "info", trio.__version__),
    ]
    checks.extend(_cli_checks(env))
    checks.append(_tool_check("node", "only needed to install the CLI"))
    checks.append(_tool_check("npm", "needed by `python -m trio_claude install-cli`"))
    checks.extend(_environment_checks(env))
    for check in EXTRA_DOCTOR_CHECKS if extra_checks is None else extra_checks:
        name = getattr(check, "__name__", repr(check))
        try:
            result = check()
        except Exception as exc:
            detail = _redact_secrets(f"{type(exc).__name__}: {exc}", env)
            checks.append(DoctorCheck(name, "fail", detail))
            continue
        if isinstance(result, DoctorCheck):
            checks.append(result)
        else:
            checks.extend(result)
    return checks


# --------------------------------------------------------------------------------------------
# doctor: a session against the built-in fake model
# --------------------------------------------------------------------------------------------

#: Seconds the doctor's fake-model session may take, start to finish.
FAKE_SESSION_TIMEOUT = 20.0
#: Of which this much is kept for stopping a CLI that hangs (``close_timeout`` + SIGTERM grace).
_FAKE_SESSION_TEARDOWN = 2.5
_FAKE_SESSION_CHECK = "fake-model session"
_FAKE_SESSION_ANSWER = "doctor: the fake model answered"


def _redact_secrets(text: str, env: Mapping[str, str]) -> str:
    from ._redact import redact

    for var in _SECRET_VARS:
        value = env.get(var)
        if value and len(value) >= 4:
            text = text.replace(value, f"<{var}>")
    return redact(text)


async def _fake_model_session(cli: str, deadline: float) -> tuple[float, str | None]:
    import tempfile

    import trio

    from ._query import ask
    from .testing import Turn, open_claude_test_env
    from .types import InitMessage

    with (
        tempfile.TemporaryDirectory(prefix="trio-claude-doctor-") as tmp,
        trio.fail_after(deadline),
    ):
        async with open_claude_test_env(tmp) as env:
            opts = env.options(
                [Turn(_FAKE_SESSION_ANSWER)], name="doctor", cli_path=cli, close_timeout=1.0
            )
            start = trio.current_time()
            turn = await ask("doctor: are you there?", options=opts)
            elapsed = trio.current_time() - start
            if turn.text != _FAKE_SESSION_ANSWER:
                raise RuntimeError(f"unexpected answer {turn.text!r}")
            requests = env.model.turn_requests("doctor")
            if len(requests) != 1 or requests[0].last_user_text != "doctor: are you there?":
                raise RuntimeError(f"the fake model saw {len(requests)} unexpected request(s)")
            leaked = env.kill_leaked()
            if leaked:
                raise RuntimeError(f"the CLI outlived its session (pids {leaked})")
    version = next(
        (m.claude_code_version for m in turn.messages if isinstance(m, InitMessage)), None
    )
    return elapsed, version


def check_fake_model_session(
    env: Mapping[str, str] | None = None, *, timeout: float = FAKE_SESSION_TIMEOUT
) -> DoctorCheck:
    """Runs one scripted turn through the CLI against the built-in fake model (offline).

    Proves the whole chain works here: spawning the CLI, the stream-json protocol, the CLI's
    HTTP requests to a local model, and a clean exit. Bounded by ``timeout``, stopping a CLI
    that hangs included.

    Args:
        env: The environment the CLI is looked up in (default: ``os.environ``).
        timeout: Seconds the whole check may take.

    Returns:
        ``ok`` with the time taken, ``fail`` with the reason (secrets redacted), or ``info``
        when there is no CLI to try (the ``claude CLI`` line already fails then).
    """
    import trio

    env = environ() if env is None else env
    try:
        cli = find_cli(env=env)
    except CLINotFoundError:
        return DoctorCheck(_FAKE_SESSION_CHECK, "info", "skipped: no claude CLI found")
    try:
        deadline = max(0.5, timeout - _FAKE_SESSION_TEARDOWN)
        elapsed, version = trio.run(_fake_model_session, cli, deadline)
    except trio.TooSlowError:
        return DoctorCheck(
            _FAKE_SESSION_CHECK, "fail", f"did not complete within {timeout:g} s (with {cli})"
        )
    except Exception as exc:
        detail = _redact_secrets(f"{type(exc).__name__}: {exc}", env)
        return DoctorCheck(_FAKE_SESSION_CHECK, "fail", _tail(detail, 12))
    return DoctorCheck(
        _FAKE_SESSION_CHECK,
        "ok",
        f"one scripted turn completed offline in {elapsed:.1f} s "
        f"(Claude Code {version or '?'} against the built-in fake model)",
    )


EXTRA_DOCTOR_CHECKS.append(check_fake_model_session)
