"""End-to-end tests: the real pinned ``claude`` CLI against the fake model, offline.

The CLI comes from ``make test`` (``python -m trio_claude install-cli``). Without it these tests
skip locally, but fail under CI, where a skipped end-to-end tier would hide a broken setup.
"""

from __future__ import annotations

import pytest

from tests._helpers import require_cli


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _require_cli() -> None:
    require_cli()
