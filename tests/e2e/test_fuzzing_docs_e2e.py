"""The state machine of docs/fuzzing.md ("A state machine over one session") runs as shown."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

FUZZING_MD = Path(__file__).resolve().parents[2] / "docs" / "fuzzing.md"


def test_the_state_machine_of_the_docs_passes(tmp_path: Path) -> None:
    text = FUZZING_MD.read_text()
    section = text[text.index("### A state machine over one session") :]
    section = section[: section.index("\n## ")]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    module = tmp_path / "test_machine_from_docs.py"
    module.write_text(code)
    out = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"),
            *("--rootdir", str(tmp_path), str(module)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
