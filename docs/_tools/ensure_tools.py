"""Installs what ``make docs`` and ``tests/docs`` need outside Python, when it is missing.

As a script::

    python docs/_tools/ensure_tools.py          # graphviz (``dot``) and chromium, if missing
    python docs/_tools/ensure_tools.py dot      # only graphviz

The diagrams are rendered by ``dot`` (Debian's ``graphviz`` package) at build time: no network,
no CDN. ``tests/docs`` opens the built site in Debian's headless ``chromium``. Both come from
apt-get, like the PostgreSQL server of ``tests/_postgres.py install``; installing needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

#: Tool -> (the program looked for, the Debian package that provides it).
TOOLS: dict[str, tuple[str, str]] = {
    "dot": ("dot", "graphviz"),
    "chromium": ("chromium", "chromium"),
}


def missing(tools: list[str]) -> list[str]:
    """The Debian packages of the ``tools`` whose program is not on ``PATH``."""
    return [TOOLS[t][1] for t in tools if shutil.which(TOOLS[t][0]) is None]


def ensure(tools: list[str]) -> None:
    """Installs the packages of the missing ``tools`` with apt-get (raises ``SystemExit``)."""
    packages = missing(tools)
    if not packages:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SystemExit(
            f"missing: {', '.join(packages)}; installing needs root and apt-get: run "
            f"`apt-get update && apt-get install -y --no-install-recommends {' '.join(packages)}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"ensure_tools: installing {' '.join(packages)} (apt-get)", flush=True)
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    still = missing(tools)
    if still:
        raise SystemExit(f"apt-get installed {' '.join(packages)}, but {still} is still missing")


if __name__ == "__main__":
    wanted = sys.argv[1:] or list(TOOLS)
    unknown = sorted(set(wanted) - set(TOOLS))
    if unknown:
        raise SystemExit(f"unknown tool(s) {unknown}; known: {sorted(TOOLS)}")
    ensure(wanted)
