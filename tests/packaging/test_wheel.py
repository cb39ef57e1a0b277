"""A release that installs: the wheel and the sdist build and pass ``twine check``, the version
has one source, and the demo runs from the wheel in a clean virtualenv outside the checkout.

The build and the virtualenv are made once per run (``conftest.py``). The demo runs the real
pinned CLI (``make cli`` puts it in the per-user cache) against the built-in fake model.
"""

from __future__ import annotations

import ast
import email.parser
import re
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from tests._helpers import require_cli

from .conftest import ROOT, Dist, clean_env, run

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def source_version() -> str:
    """``__version__`` as ``trio_claude/_version.py`` assigns it (read, not imported)."""
    tree = ast.parse((ROOT / "trio_claude" / "_version.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [
            "__version__"
        ]:
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            return value
    raise AssertionError("no __version__ in trio_claude/_version.py")


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(z.read(name).decode())


def test_the_wheel_and_the_sdist_pass_twine_check(dist: Dist) -> None:
    out = run(
        [sys.executable, "-m", "twine", "check", "--strict", dist.wheel, dist.sdist],
        timeout=120,
        env=clean_env(),
    ).stdout
    assert out.count("PASSED") == 2, out


def test_the_version_has_one_source(dist: Dist) -> None:
    version = source_version()
    # pyproject.toml takes it from trio_claude/_version.py and states none of its own
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "trio_claude._version.__version__"}
    # nothing else in the package assigns a version of its own
    assigned = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "trio_claude").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign)
        and any(ast.unparse(t) == "__version__" for t in node.targets)
    ]
    assert assigned == ["trio_claude/_version.py"]
    # and the built files carry it
    assert wheel_metadata(dist.wheel)["Version"] == version
    assert dist.wheel.name.startswith(f"trio_claude-{version}-")
    assert dist.sdist.name == f"trio_claude-{version}.tar.gz"


def test_the_wheel_holds_the_package_its_metadata_and_nothing_else(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as z:
        names = z.namelist()
        entry_points = next(
            z.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")
        )
    assert {n.split("/")[0] for n in names} == {
        "trio_claude",
        f"trio_claude-{source_version()}.dist-info",
    }
    for module in ("py.typed", "__main__.py", "_version.py", "testing/fake_cli.py"):
        assert f"trio_claude/{module}" in names
    assert "trio-claude = trio_claude.__main__:main" in entry_points
    assert "trio_claude = trio_claude.testing.pytest_plugin" in entry_points
    metadata = wheel_metadata(dist.wheel)
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_content_type() == "text/plain"  # the headers parsed
    assert "# trio-claude" in metadata.get_payload()  # README.md is the long description


def test_the_classifiers_name_the_python_versions_ci_tests() -> None:
    (line,) = re.findall(r"^PYTHONS \?= (.+)$", (ROOT / "Makefile").read_text(), re.M)
    tested = line.split()
    prefix = "Programming Language :: Python :: 3."
    classified = [
        c.removeprefix("Programming Language :: Python :: ")
        for c in PYPROJECT["project"]["classifiers"]
        if c.startswith(prefix)
    ]
    assert classified == tested
    assert PYPROJECT["project"]["requires-python"] == f">={tested[0]}"


def test_the_sdist_has_what_the_wheel_is_built_from(dist: Dist) -> None:
    # `python -m build` made the wheel from this sdist, so it is complete enough to build; this
    # checks it carries the project's files and no stray ones.
    top = f"trio_claude-{source_version()}"
    with tarfile.open(dist.sdist) as tar:
        names = {n.removeprefix(top + "/") for n in tar.getnames()}
    assert {"pyproject.toml", "README.md", "PKG-INFO", "trio_claude/_version.py"} <= names
    assert "trio_claude/py.typed" in names
    assert not {n for n in names if n.startswith((".venv", ".git/", "build/", "dist/"))}


def test_the_demo_runs_from_the_wheel_in_a_clean_venv(venv_python: Path, tmp_path: Path) -> None:
    require_cli()
    bin_dir = venv_python.parent
    env = clean_env(PATH=f"{bin_dir}:{clean_env()['PATH']}")
    for secret in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        env.pop(secret, None)
    # the package comes from the venv, not from the checkout
    where = run(
        [venv_python, "-c", "import trio_claude; print(trio_claude.__file__)"],
        timeout=60,
        cwd=tmp_path,
        env=env,
    ).stdout.strip()
    assert Path(where).is_relative_to(bin_dir.parent), where
    assert not Path(where).is_relative_to(ROOT)
    # its console script, and its version
    version = run([bin_dir / "trio-claude", "--version"], timeout=60, cwd=tmp_path, env=env)
    assert source_version() in version.stdout
    # the demo: the real CLI (found in the per-user cache) and the built-in fake model
    demo = run(
        [venv_python, "-m", "trio_claude", "demo", "--fake", "--color", "never"],
        timeout=180,
        cwd=tmp_path,
        env=env,
    )
    out = demo.stdout
    assert f"trio-claude {source_version()} demo" in out
    assert "built-in fake Messages API at http://127.0.0.1:" in out
    for heading in ("1. streaming", "2. a tool call", "4. an interrupt by cancel scope"):
        assert heading in out
    assert "exited with code 0, no process left behind" in out
    assert "demo finished in" in out
    assert "Traceback" not in demo.stderr
