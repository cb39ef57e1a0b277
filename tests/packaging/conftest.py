"""The release, built once per test run: the wheel and the sdist, and a clean virtualenv with
the wheel installed, both in pytest's temporary directory (outside the checkout).

``python -m build`` builds the sdist, then the wheel from the unpacked sdist, in an isolated
environment (it installs the build backend from the package index), as a release build does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

#: The checkout the release is built from.
ROOT = Path(__file__).resolve().parents[2]


def run(
    argv: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs ``argv``; fails the test with its output if it exits non-zero."""
    proc = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=env,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, argv))} exited with {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would leak the checkout or this venv into a child."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    env.update(extra)
    return env


@attrs.frozen
class Dist:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """``python -m build`` of the checkout: one wheel and one sdist."""
    out = tmp_path_factory.mktemp("dist")
    assert not out.is_relative_to(ROOT)
    run([sys.executable, "-m", "build", "--outdir", out, ROOT], timeout=600, env=clean_env())
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Dist(wheel=wheels[0], sdist=sdists[0])


@pytest.fixture(scope="session")
def venv_python(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new virtualenv (no system site-packages) with only the wheel installed,
    with its ``testing`` extra (h11, for the demo's fake model), and its dependencies from the
    package index."""
    venv = tmp_path_factory.mktemp("venv")
    assert not venv.is_relative_to(ROOT)
    run([sys.executable, "-m", "venv", venv], timeout=300, env=clean_env())
    python = venv / "bin" / "python"
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{dist.wheel}[testing]",
        ],
        timeout=600,
        cwd=venv,
        env=clean_env(),
    )
    return python
