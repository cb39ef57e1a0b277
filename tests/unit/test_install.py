"""install_cli with a fake npm, the doctor report, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trio_claude import __main__ as cli_main
from trio_claude._install import (
    EXTRA_DOCTOR_CHECKS,
    CLIInstallError,
    DoctorCheck,
    _redact_url,
    cli_version,
    install_cli,
    parse_version,
    run_doctor,
)
from trio_claude._transport import _discovery
from trio_claude._transport._discovery import default_install_dir, installed_cli_path
from trio_claude._version import CLI_VERSION, MIN_CLI_VERSION

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake npm is a shell script")

FAKE_NPM = r"""#!/bin/sh
printf '%s\t' "$@" >> "$FAKE_NPM_LOG"
echo >> "$FAKE_NPM_LOG"
prefix=""
spec=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2;;
    *) spec="$1"; shift;;
  esac
done
if [ -n "$FAKE_NPM_FAIL" ]; then
  echo "npm ERR! code E404" >&2
  echo "npm ERR! 404 Not Found - $spec" >&2
  exit 1
fi
version="${spec##*@}"
out="${FAKE_NPM_VERSION_OUT:-$version (Claude Code)}"
mkdir -p "$prefix/node_modules/.bin"
printf '#!/bin/sh\necho "%s"\n' "$out" > "$prefix/node_modules/.bin/claude"
chmod +x "$prefix/node_modules/.bin/claude"
"""


def _exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake npm that creates a fake claude printing the requested version."""
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))
    monkeypatch.delenv("FAKE_NPM_FAIL", raising=False)
    monkeypatch.delenv("FAKE_NPM_VERSION_OUT", raising=False)
    return _exe(tmp_path / "npm-bin" / "npm", FAKE_NPM)


def _npm_calls(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "npm.log"
    if not log.exists():
        return []
    return [line.rstrip("\t").split("\t") for line in log.read_text().splitlines()]


def test_fresh_install_runs_npm_into_a_sibling_and_moves_it_into_place(
    npm: Path, tmp_path: Path
) -> None:
    target = tmp_path / "cache" / "cli" / CLI_VERSION
    binary = install_cli(directory=target, npm=str(npm))
    assert binary == installed_cli_path(target)
    assert subprocess.run([binary], capture_output=True, text=True).stdout.strip() == (
        f"{CLI_VERSION} (Claude Code)"
    )
    [call] = _npm_calls(tmp_path)
    assert call[:4] == ["install", "--no-audit", "--no-fund", "--prefix"]
    assert call[5] == f"@anthropic-ai/claude-code@{CLI_VERSION}"
    work = Path(call[4])
    assert work.parent == target.parent and work.name.startswith(f".{CLI_VERSION}.tmp-")
    assert sorted(p.name for p in target.parent.iterdir()) == [CLI_VERSION]


def test_second_install_is_a_fast_no_op(npm: Path, tmp_path: Path) -> None:
    target = tmp_path / "d"
    install_cli(directory=target, npm=str(npm))
    assert install_cli(directory=target, npm=str(npm)) == installed_cli_path(target)
    assert len(_npm_calls(tmp_path)) == 1  # npm ran once: the second call found the CLI


def test_other_version_present_is_reinstalled_in_place(npm: Path, tmp_path: Path) -> None:
    target = tmp_path / "d"
    _exe(installed_cli_path(target), '#!/bin/sh\necho "1.0.0 (Claude Code)"\n')
    binary = install_cli("2.1.329", target, npm=str(npm))
    assert cli_version(binary) == "2.1.329"
    [call] = _npm_calls(tmp_path)
    assert call[4] == str(target)


def test_version_and_directory_arguments(npm: Path, tmp_path: Path) -> None:
    binary = install_cli("9.8.7", tmp_path / "v", npm=str(npm))
    assert cli_version(binary) == "9.8.7"
    assert _npm_calls(tmp_path)[0][5] == "@anthropic-ai/claude-code@9.8.7"


def test_default_directory_is_the_user_cache(
    npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIO_CLAUDE_CACHE_DIR", str(tmp_path / "cache"))
    binary = install_cli(npm=str(npm))
    assert binary == installed_cli_path(tmp_path / "cache" / "cli" / CLI_VERSION)
    assert default_install_dir() == tmp_path / "cache" / "cli" / CLI_VERSION


def test_npm_on_path_by_name(npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{npm.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    install_cli(directory=tmp_path / "d")
    assert len(_npm_calls(tmp_path)) == 1


def test_missing_npm_says_to_install_node(tmp_path: Path) -> None:
    with pytest.raises(CLIInstallError) as info:
        install_cli(directory=tmp_path / "d", npm="no-such-npm-here")
    assert "Node.js" in str(info.value) and "npm" in str(info.value)
    assert not (tmp_path / "d").exists()


def test_npm_failure_is_reported_and_leaves_nothing(
    npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    parent = tmp_path / "cache"
    with pytest.raises(CLIInstallError) as info:
        install_cli(directory=parent / "d", npm=str(npm))
    assert "exit code 1" in str(info.value) and "404 Not Found" in str(info.value)
    assert not parent.exists() or list(parent.iterdir()) == []


def test_broken_install_is_detected(
    npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_VERSION_OUT", "placeholder: run the postinstall")
    with pytest.raises(CLIInstallError, match=r"instead of '2\.1\.329 \(Claude Code\)'"):
        install_cli("2.1.329", tmp_path / "d", npm=str(npm))


def test_parse_and_cli_version(tmp_path: Path) -> None:
    assert parse_version("2.1.329 (Claude Code)") == (2, 1, 329)
    assert parse_version("v20.20.2") == (20, 20, 2)
    assert parse_version("nothing") is None
    fake = _exe(tmp_path / "claude", '#!/bin/sh\necho "2.1.5 (Claude Code)"\n')
    assert cli_version(fake) == "2.1.5"
    assert cli_version(tmp_path / "missing") is None
    failing = _exe(tmp_path / "failing", "#!/bin/sh\necho 2.1.5\nexit 3\n")
    assert cli_version(failing) is None


# ---------------------------------------------------------------------------------------------
# doctor
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def no_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No CLI anywhere: empty HOME, cache and PATH (plus the real node/npm dirs, if any).

    Registered extra doctor checks are set aside for the test and restored afterwards.
    """
    monkeypatch.setattr(_discovery, "_SYSTEM_LOCATIONS", ())
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TRIO_CLAUDE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRIO_CLAUDE_CLI", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    dirs = {str(tmp_path / "empty-bin")}
    for tool in ("node", "npm"):
        found = _which(tool)
        if found:
            dirs.add(str(Path(found).parent))
    # Keep node/npm visible but hide any real claude next to them.
    monkeypatch.setenv("PATH", os.pathsep.join(d for d in dirs if not Path(d, "claude").exists()))
    saved = list(EXTRA_DOCTOR_CHECKS)
    EXTRA_DOCTOR_CHECKS.clear()
    try:
        yield tmp_path
    finally:
        EXTRA_DOCTOR_CHECKS[:] = saved


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def _fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version_line: str) -> Path:
    cli = _exe(tmp_path / "fake" / "claude", f'#!/bin/sh\necho "{version_line}"\n')
    monkeypatch.setenv("TRIO_CLAUDE_CLI", str(cli))
    return cli


def _by_name(checks: list[DoctorCheck]) -> dict[str, DoctorCheck]:
    return {c.name: c for c in checks}


def test_doctor_with_the_pinned_cli(no_cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = _fake_cli(no_cli, monkeypatch, f"{CLI_VERSION} (Claude Code)")
    checks = _by_name(run_doctor(extra_checks=[]))
    assert checks["claude CLI"] == DoctorCheck("claude CLI", "ok", str(cli))
    assert checks["claude version"].status == "ok"
    assert {"python", "trio", "trio-claude", "node", "npm"} <= set(checks)


@pytest.mark.parametrize(
    ("line", "status"),
    [(f"{MIN_CLI_VERSION} (Claude Code)", "ok"), ("2.1.330 (Claude Code)", "ok"),
     ("9.0.0 (Claude Code)", "warn"), ("2.1.0 (Claude Code)", "fail"),
     ("1.0.99 (Claude Code)", "fail"), ("garbage", "fail")],
)  # fmt: skip
def test_doctor_version_verdicts(
    no_cli: Path, monkeypatch: pytest.MonkeyPatch, line: str, status: str
) -> None:
    _fake_cli(no_cli, monkeypatch, line)
    assert _by_name(run_doctor(extra_checks=[]))["claude version"].status == status


def test_doctor_without_a_cli_fails_and_exits_non_zero(
    no_cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = _by_name(run_doctor(extra_checks=[]))
    assert checks["claude CLI"].status == "fail"
    assert "install-cli" in checks["claude CLI"].detail
    assert cli_main.main(["doctor"]) == 1
    assert "claude CLI" in capsys.readouterr().err


def test_doctor_never_prints_secrets(
    no_cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_cli(no_cli, monkeypatch, f"{CLI_VERSION} (Claude Code)")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "oauth-very-secret")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://user:pw-very-secret@127.0.0.1:8080/p")
    assert cli_main.main(["doctor"]) == 0
    out, err = capsys.readouterr()
    assert "very-secret" not in out + err
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip()}
    assert "set (redacted)" in lines["ANTHROPIC_API_KEY"]
    assert "set (redacted)" in lines["CLAUDE_CODE_OAUTH_TOKEN"]
    assert "not set" in lines["ANTHROPIC_AUTH_TOKEN"]
    assert "http://***@127.0.0.1:8080/p" in lines["ANTHROPIC_BASE_URL"]


def test_redact_url() -> None:
    assert _redact_url("http://127.0.0.1:1/x") == "http://127.0.0.1:1/x"
    assert _redact_url("https://a:b@h/x?q=1") == "https://***@h/x"
    assert _redact_url("https://tok@h") == "https://***@h"


def test_extra_doctor_checks_run_and_failures_count(
    no_cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_cli(no_cli, monkeypatch, f"{CLI_VERSION} (Claude Code)")

    def fake_model_session() -> DoctorCheck:
        return DoctorCheck("fake-model session", "ok", "completed in 0.4 s")

    def broken() -> list[DoctorCheck]:
        raise RuntimeError("no port")

    EXTRA_DOCTOR_CHECKS.append(fake_model_session)
    checks = _by_name(run_doctor())
    assert checks["fake-model session"].status == "ok"
    EXTRA_DOCTOR_CHECKS.append(broken)
    checks = _by_name(run_doctor())
    assert checks["broken"] == DoctorCheck("broken", "fail", "RuntimeError: no port")
    assert cli_main.main(["doctor"]) == 1
    assert "fake-model session" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------


def test_install_cli_command_prints_the_path(
    npm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main.main(
        ["install-cli", "--version", "3.2.1", "--dir", str(tmp_path / "d"), "--npm", str(npm)]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(installed_cli_path(tmp_path / "d"))


def test_install_cli_command_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main.main(["install-cli", "--dir", str(tmp_path / "d"), "--npm", "no-such-npm"])
    assert code == 1
    assert "Node.js" in capsys.readouterr().err


def test_subcommands_are_a_registry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(cli_main.SUBCOMMANDS) == {"install-cli", "doctor", "run", "demo"}

    def add(parser: object) -> None:
        parser.add_argument("word")  # type: ignore[attr-defined]

    def run(args: object) -> int:
        print("hello", args.word)  # type: ignore[attr-defined]
        return 7

    monkeypatch.setitem(cli_main.SUBCOMMANDS, "hello", cli_main.Subcommand("say hello", add, run))
    assert cli_main.main(["hello", "trio"]) == 7
    assert capsys.readouterr().out == "hello trio\n"


def test_no_subcommand_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main.main([]) == 2
    assert "install-cli" in capsys.readouterr().err


def test_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trio_claude", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert f"pinned Claude Code CLI {CLI_VERSION}" in proc.stdout


# ---------------------------------------------------------------------------------------------
# the real npm registry and CLI
# ---------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_real_pinned_cli_fast_path(tmp_path: Path) -> None:
    """The CLI `make cli` installed: install_cli() finds it and needs no npm at all."""
    binary = installed_cli_path(default_install_dir(CLI_VERSION))
    if not binary.exists():
        pytest.skip("pinned CLI not installed (python -m trio_claude install-cli)")
    # An npm that does not exist: reaching for it would raise CLIInstallError.
    assert install_cli(npm=str(tmp_path / "no-npm")) == binary
    assert cli_version(binary) == CLI_VERSION


@pytest.mark.e2e
@pytest.mark.skipif(
    not os.environ.get("TRIO_CLAUDE_TEST_NPM_INSTALL"),
    reason="downloads ~200 MB from npm; set TRIO_CLAUDE_TEST_NPM_INSTALL=1",
)
def test_real_npm_install(tmp_path: Path) -> None:
    binary = install_cli(directory=tmp_path / "cli")
    assert cli_version(binary) == CLI_VERSION
    assert install_cli(directory=tmp_path / "cli", npm=str(tmp_path / "no-npm")) == binary
