"""The `server` fixture: the webhook with default settings over HTTPS on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sidecar.k8s.settings import InjectorSettings
from tests.k8s.webhook_server import Server, serve


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with serve(tmp_path, InjectorSettings()) as running:
        yield running
