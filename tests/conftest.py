"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The reference material beside the repository (read-only).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TRANSCRIPTS = SHARED / "reference" / "transcripts-cli-2.1.329"


@pytest.fixture
def transcripts_dir() -> Path:
    if not TRANSCRIPTS.is_dir():
        pytest.skip("reference transcripts not available")
    return TRANSCRIPTS
