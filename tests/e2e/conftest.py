from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh `floor serve` on a free port and its own data directory."""
    s = Server(tmp_path / "data").start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a module's tests that each create their own meeting."""
    s = Server(tmp_path_factory.mktemp("shared") / "data").start()
    yield s
    s.close()
