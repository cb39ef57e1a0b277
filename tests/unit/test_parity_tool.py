"""tools/parity.py (``make parity``) on made-up packages (tests/unit/parity_fixtures), offline."""

from __future__ import annotations

import ast
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from tools import parity
from tools.parity import (
    ANSWERED,
    BLOCK,
    CONTROL,
    HOOK,
    MESSAGE,
    METHOD,
    NAME,
    OPTION,
    SENT,
    Official,
)

FIXTURES = Path(__file__).parent / "parity_fixtures"
PY_PACKAGE = FIXTURES / "python" / "claude_agent_sdk"
DTS = FIXTURES / "ts" / "package" / "sdk.d.ts"
REPO = Path(__file__).resolve().parents[2]


def _names(items: list[Official], category: str, source: str) -> list[str]:
    return [i.name for i in items if i.category == category and i.source == source]


@pytest.fixture(scope="module")
def py_items() -> list[Official]:
    return parity.extract_python(parity.find_python_package(FIXTURES))


@pytest.fixture(scope="module")
def ts_items() -> list[Official]:
    return parity.extract_ts(parity.find_ts_declarations(FIXTURES))


# --- the Python SDK ------------------------------------------------------------------------------


def test_python_package_and_version_are_found() -> None:
    assert parity.find_python_package(FIXTURES) == PY_PACKAGE
    assert parity.python_version(PY_PACKAGE) == "0.0.1+fixture"


def test_python_options_are_the_dataclass_fields(py_items: list[Official]) -> None:
    # LIMIT is a ClassVar, not a field
    assert _names(py_items, OPTION, "py") == ["model", "max_turns", "confetti_level"]


def test_python_names_are_dunder_all_and_the_public_names_of_types(
    py_items: list[Official],
) -> None:
    names = _names(py_items, NAME, "py")
    # __all__ (with its += addition) first, then types.py's classes and aliases
    assert names[:6] == [
        "ClaudeAgentOptions",
        "PermissionMode",
        "Widget",
        "only_official",
        "query",
        "late_addition",
    ]
    assert {"HookEvent", "ContentBlock", "Message", "SparkleBlock", "ConfettiMessage"} <= set(names)
    # private names and a name bound by an import (its fallback assignment too) are not listed
    assert "_PRIVATE" not in names
    assert "McpServer" not in names
    assert len(names) == len(set(names))


def test_python_messages_and_blocks_are_the_unions_and_their_subclasses(
    py_items: list[Official],
) -> None:
    assert _names(py_items, MESSAGE, "py") == [
        "UserMessage",
        "SystemMessage",
        "ConfettiMessage",
        "TaskStartedMessage",  # derives from SystemMessage
    ]
    assert _names(py_items, BLOCK, "py") == ["TextBlock", "SparkleBlock"]


def test_python_hook_events_are_every_literal_of_the_alias(py_items: list[Official]) -> None:
    assert _names(py_items, HOOK, "py") == ["PreToolUse", "Stop", "MadeUpEvent"]


def test_python_control_requests_sent_and_answered(py_items: list[Official]) -> None:
    # a dict with "type" (a message) or "request_id" (a response) is not a request
    assert _names(py_items, SENT, "py") == ["initialize", "interrupt", "throw_confetti"]
    # comparisons outside the control request handler (task_started) do not count
    assert _names(py_items, ANSWERED, "py") == ["can_use_tool", "hook_callback", "ask_for_confetti"]


def test_python_client_methods(py_items: list[Official]) -> None:
    assert _names(py_items, METHOD, "py") == ["connect", "interrupt", "juggle"]


def test_python_helpers_on_snippets() -> None:
    expr = ast.parse('Literal["a"] | typing.Literal["b", "c"] | Other', mode="eval").body
    assert parity.literal_strings(expr) == ["a", "b", "c"]
    union = ast.parse('Union[A, Optional[B]] | "C"', mode="eval").body
    assert parity.union_names(union) == ["A", "B", "C"]


def test_an_unknown_python_layout_is_an_error(tmp_path: Path) -> None:
    package = tmp_path / "claude_agent_sdk"
    package.mkdir()
    (package / "types.py").write_text("class Renamed:\n    x: int\n")
    (package / "__init__.py").write_text("__all__ = ['Renamed']\n")
    with pytest.raises(parity.ParityError, match="options"):
        parity.extract_python(package)
    with pytest.raises(parity.ParityError, match=r"no claude_agent_sdk/types\.py"):
        parity.find_python_package(tmp_path / "nothing-here")


# --- the TypeScript SDK --------------------------------------------------------------------------


def test_ts_declarations_and_version_are_found() -> None:
    assert parity.find_ts_declarations(FIXTURES) == DTS
    assert parity.ts_version(DTS) == "0.0.2-fixture"


def test_ts_options_are_the_top_level_keys_mapped_to_snake_case(ts_items: list[Official]) -> None:
    options = {i.name: i.keys for i in ts_items if i.category == OPTION}
    # keys of nested objects and words in comments are not options
    assert list(options) == [
        "abortController",
        "additionalDirectories",
        "maxTurns",
        "nested",
        "stderr",
        "quotedKey",
        "confettiLevel",
        "pathToClaudeCodeExecutable",
    ]
    assert options["maxTurns"] == ("max_turns",)
    assert options["additionalDirectories"] == ("add_dirs",)  # TS_OPTION_ALIASES
    assert options["pathToClaudeCodeExecutable"] == ("cli_path",)


def test_ts_hook_events_are_the_const_and_the_type(ts_items: list[Official]) -> None:
    assert _names(ts_items, HOOK, "ts") == ["PreToolUse", "Stop", "TsOnlyEvent", "AnotherTsEvent"]


def test_ts_control_subtypes_are_the_union_members_and_every_control_request(
    ts_items: list[Official],
) -> None:
    assert _names(ts_items, CONTROL, "ts") == [
        "interrupt",
        "hook_callback",  # SDKHookCallbackRequest: in the union without the SDKControl prefix
        "throw_confetti",
        "orphan_request",  # SDKControl*Request outside the union
    ]


def test_ts_messages_are_discriminated_by_type_and_system_subtype(
    ts_items: list[Official],
) -> None:
    messages = [(i.name, i.keys) for i in ts_items if i.category == MESSAGE]
    assert messages == [
        ("SDKUserMessage", ("user",)),  # not the nested `type` of its `message`
        ("SDKResultMessage", ("result",)),  # a union of two named types
        ("SDKTaskStartedMessage", ("system/task_started",)),  # an intersection
        ("SDKConfettiMessage", ("system/confetti",)),  # `'};'` in a string breaks nothing
    ]


def test_ts_exports_and_their_trio_claude_spellings(ts_items: list[Official]) -> None:
    exports = {i.name: i.keys for i in ts_items if i.category == NAME}
    assert list(exports)[:5] == [
        "AbortError",
        "query",
        "listSessions",
        "throwConfetti",
        "HOOK_EVENTS",
    ]
    assert "Commented" not in exports  # in a // comment
    assert exports["listSessions"] == ("list_sessions", "listSessions")
    assert exports["Options"] == ("ClaudeAgentOptions", "Options")
    assert exports["SDKUserMessage"] == ("UserMessage", "SDKUserMessage")
    assert exports["SDKResultError"][0] == "ResultMessage"  # not the exception ResultError


def test_ts_query_methods(ts_items: list[Official]) -> None:
    methods = {i.name: i.keys for i in ts_items if i.category == METHOD}
    assert methods == {
        "interrupt": ("interrupt",),
        "mcpServerStatus": ("mcp_status",),  # TS_METHOD_ALIASES
        "juggleBalls": ("juggle_balls",),
    }


def test_ts_text_helpers() -> None:
    text = parity.strip_comments("a /* x { */ b // y 'z\n'c // not a comment' d")
    assert text == "a  b \n'c // not a comment' d"
    assert parity.split_top("A | { b: 'x|y' } | (C | D)", "|") == ["A", "{ b: 'x|y' }", "(C | D)"]
    fields = parity.object_fields("{ a?: { x: 1 }; readonly b: 'p' | 'q'; c(n: number): void }")
    assert fields == {"a": "{}", "b": "'p' | 'q'", "c": "(): void"}
    assert parity.snake("additionalDirectories") == "additional_directories"
    assert parity.snake("SDKMessage") == "sdk_message"
    assert parity.snake("maxBudgetUsd") == "max_budget_usd"


def test_an_unknown_ts_layout_is_an_error(tmp_path: Path) -> None:
    dts = tmp_path / "sdk.d.ts"
    dts.write_text("export declare type Renamed = { a: string };\n")
    with pytest.raises(parity.ParityError, match="options"):
        parity.extract_ts(dts)


# --- explanations and the comparison -------------------------------------------------------------


def test_explanations_are_the_rows_of_the_section_only() -> None:
    explanations = parity.parse_explanations((FIXTURES / "migration.md").read_text())
    assert explanations == {
        "abortController": "trio cancellation",
        "AbortError": "trio cancellation",
        "juggle": "not implemented",
        "no_longer_missing": "a stale row",
        "throw_confetti": "not implemented either",
    }


def _item(category: str, name: str, source: str, *keys: str) -> Official:
    return Official(category, name, source, keys or (name,))


def test_compare_sorts_missing_into_explained_and_unexplained_and_finds_stale_rows() -> None:
    official = [
        _item(OPTION, "max_turns", "py"),
        _item(OPTION, "maxTurns", "ts", "max_turns"),  # the same option: one entry
        _item(OPTION, "abortController", "ts", "abort_controller"),
        _item(OPTION, "confetti_level", "py"),
        _item(OPTION, "confettiLevel", "ts", "confetti_level"),
        _item(NAME, "listSessions", "ts", "list_sessions", "listSessions"),
        _item(HOOK, "Stop", "py"),
        _item(CONTROL, "throw_confetti", "ts"),
        _item(SENT, "throw_confetti", "py"),
    ]
    ours = {OPTION: frozenset({"max_turns"}), NAME: frozenset({"list_sessions"})}
    explanations = {"abortController": "trio", "throw_confetti": "later", "gone": "stale"}
    report = parity.compare(official, ours, explanations)

    assert report.checked == {OPTION: 3, NAME: 1, HOOK: 1, CONTROL: 1, SENT: 1}
    assert [(m.category, m.label, m.explanation) for m in report.missing] == [
        (OPTION, "`abortController` (ts)", "trio"),
        (OPTION, "`confettiLevel` (ts), `confetti_level` (py)", None),
        (HOOK, "`Stop` (py)", None),
        (SENT, "`throw_confetti` (py)", "later"),
        (CONTROL, "`throw_confetti` (ts)", "later"),
    ]
    assert [m.label for m in report.unexplained] == [
        "`confettiLevel` (ts), `confetti_level` (py)",
        "`Stop` (py)",
    ]
    assert report.stale == ["gone"]


def test_the_report_counts_and_lists(capsys: pytest.CaptureFixture[str]) -> None:
    report = parity.compare(
        [_item(OPTION, "a", "py"), _item(OPTION, "b", "ts"), _item(HOOK, "E", "ts")],
        {OPTION: frozenset({"a"})},
        {"E": "why", "old": "stale"},
    )
    text = parity.format_report(report, "HEADER")
    assert text.splitlines()[:4] == [
        "HEADER",
        "",
        "options: 2 official, 1 present, 1 missing (0 explained, 1 unexplained)",
        "  MISSING    `b` (ts)  (looked for `b`)",
    ]
    assert "hook events: 1 official, 0 present, 1 missing (1 explained, 0 unexplained)" in text
    assert "  explained  `E` (ts): why" not in text
    assert "  explained  `E` (ts): why" in parity.format_report(report, "H", verbose=True)
    assert "  STALE      `old`" in text
    assert text.endswith(
        "Total: 3 official, 1 present, 2 missing: 1 explained in docs/migration.md, "
        "1 unexplained; 1 stale explanations.\n(--verbose lists the explained ones)"
    )


def test_main_offline_on_the_fixtures(capsys: pytest.CaptureFixture[str]) -> None:
    """End to end against the real trio_claude: the made-up names are missing, the rest not."""
    doc = FIXTURES / "migration.md"
    status = parity.main(["--offline", str(FIXTURES), "--doc", str(doc)])
    out = capsys.readouterr().out
    assert status == 1
    assert out.startswith(
        "trio-claude parity with claude-agent-sdk 0.0.1+fixture (py) and "
        "@anthropic-ai/claude-agent-sdk 0.0.2-fixture (ts)"
    )
    missing = {
        name
        for line in out.splitlines()
        if "MISSING" in line
        for name in line.split("(looked")[0].split("`")[1::2]
    }
    made_up = {
        "confetti_level",
        "confettiLevel",
        "nested",
        "quotedKey",
        "ConfettiMessage",
        "SDKConfettiMessage",
        "late_addition",
        "only_official",
        "SparkleBlock",
        "throwConfetti",
        "Widget",
        "juggleBalls",
        "AnotherTsEvent",
        "MadeUpEvent",
        "TsOnlyEvent",
        "ask_for_confetti",
        "orphan_request",
    }
    assert made_up <= missing
    # trio-claude has these (some under another name), and the explained ones are not MISSING
    assert missing.isdisjoint(
        {
            "query",
            "ClaudeAgentOptions",
            "PermissionMode",
            "maxTurns",
            "additionalDirectories",
            "pathToClaudeCodeExecutable",
            "listSessions",
            "Options",
            "SDKUserMessage",
            "SDKResultMessage",
            "SDKTaskStartedMessage",
            "TaskStartedMessage",
            "mcpServerStatus",
            "connect",
            "PreToolUse",
            "Stop",
            "initialize",
            "interrupt",
            "can_use_tool",
            "hook_callback",
            "abortController",
            "AbortError",
            "juggle",
            "throw_confetti",
        }
    )
    assert "  explained  `throw_confetti` (py)" not in out  # without --verbose
    assert "  STALE      `no_longer_missing`" in out


def test_main_is_zero_when_everything_missing_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parity.main(["--offline", str(FIXTURES), "--doc", str(tmp_path / "absent.md")])
    names = [
        name
        for line in capsys.readouterr().out.splitlines()
        if "MISSING" in line
        for name in line.split("(looked")[0].split("`")[1::2]
    ]
    doc = tmp_path / "migration.md"
    rows = "".join(f"| `{name}` | made up |\n" for name in sorted(set(names)))
    doc.write_text(f"## Known differences (make parity)\n\n| name | why |\n|---|---|\n{rows}")
    assert parity.main(["--offline", str(FIXTURES), "--doc", str(doc)]) == 0
    assert "0 unexplained; 0 stale explanations." in capsys.readouterr().out


def test_main_exits_2_when_the_packages_are_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parity.main(["--offline", str(tmp_path)]) == 2
    assert "no claude_agent_sdk/types.py" in capsys.readouterr().err


# --- trio-claude's side, and the real docs/migration.md ------------------------------------------


def test_our_surface_is_extracted() -> None:
    ours = parity.extract_ours()
    assert {"add_dirs", "cli_path", "transport"} <= ours[OPTION]
    assert {"ClaudeSDKClient", "query", "list_sessions", "SessionStoreFlushMode"} <= ours[NAME]
    assert {"mcp_status", "aclose", "server_info"} <= ours[METHOD]
    assert {"user", "result", "system/init"} <= ours[MESSAGE]
    assert {"initialize", "interrupt", "set_model", "mcp_call"} <= ours[SENT]
    assert {"can_use_tool", "hook_callback", "mcp_message"} <= ours[ANSWERED]
    assert ours[CONTROL] == ours[SENT] | ours[ANSWERED]
    assert "PreToolUse" in ours[HOOK]


def test_every_alias_names_something_trio_claude_has() -> None:
    ours = parity.extract_ours()
    assert set(parity.TS_OPTION_ALIASES.values()) <= ours[OPTION]
    assert set(parity.TS_NAME_ALIASES.values()) <= ours[NAME]
    assert set(parity.TS_METHOD_ALIASES.values()) <= ours[METHOD]


def test_the_migration_guide_explains_with_reasons() -> None:
    explanations = parity.parse_explanations((REPO / "docs" / "migration.md").read_text())
    assert explanations, "docs/migration.md has no '## Known differences (make parity)' rows"
    assert all(len(why) > 10 for why in explanations.values())


# --- fetching (no network: the registry clients are faked) ---------------------------------------


def _tar(path: Path, files: dict[str, str], *, evil: bool = False) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if evil:
            info = tarfile.TarInfo("../escaped.txt")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
            link = tarfile.TarInfo("pkg/link")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tar.addfile(link)


def test_fetch_asks_pip_and_npm_for_the_versions_and_unpacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_run(argv: list[str], cwd: Path) -> None:
        calls.append(argv)
        flag = "--dest" if "--dest" in argv else "--pack-destination"
        downloads = Path(argv[argv.index(flag) + 1])
        if "pip" in argv:
            sdist = downloads / "claude_agent_sdk-9.9.9.tar.gz"
            _tar(sdist, {"sdk/src/claude_agent_sdk/types.py": ""})
        else:
            _tar(downloads / "pkg-1.2.3.tgz", {"package/sdk.d.ts": ""}, evil=True)

    monkeypatch.setattr(parity, "_run", fake_run)
    monkeypatch.setattr(shutil, "which", lambda name: f"/bin/{name}")
    dest = tmp_path / "fetched"
    parity.fetch(dest, "9.9.9", "1.2.3")

    assert calls[0][-1] == "claude-agent-sdk==9.9.9"
    assert calls[0][calls[0].index("--no-binary") + 1] == ":all:"
    assert calls[1][0] == "/bin/npm" and calls[1][-1] == "@anthropic-ai/claude-agent-sdk@1.2.3"
    assert (dest / "py" / "sdk" / "src" / "claude_agent_sdk" / "types.py").is_file()
    assert (dest / "ts" / "package" / "sdk.d.ts").is_file()
    assert not (dest / "escaped.txt").exists()  # a member outside the directory is skipped
    assert not (dest / "ts" / "pkg" / "link").exists()  # so is a link


def test_fetch_defaults_to_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(parity, "_run", lambda argv, cwd: calls.append(argv))
    monkeypatch.setattr(shutil, "which", lambda name: f"/bin/{name}")
    with pytest.raises(parity.ParityError, match="expected one sdist"):
        parity.fetch(tmp_path, None, None)
    assert calls[0][-1] == "claude-agent-sdk"
    assert calls[1][-1] == "@anthropic-ai/claude-agent-sdk@latest"
