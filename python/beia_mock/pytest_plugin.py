"""pytest fixtures for the beia mock: ``beia_mock`` (one per session) and ``beia_license`` (one per test).

Installed, the package registers this plugin by itself; used by path, name it in a conftest.py::

    pytest_plugins = ["beia_mock.pytest_plugin"]

Which mock ``beia_mock`` is: ``BeiaMock.from_env()`` (``BEIA_MOCK_URL``, else ``BEIA_MOCK_START``:
``docker``, ``docker-host`` or ``command``). A test's license takes its settings from a marker::

    @pytest.mark.beia_license(credits=1)
    def test_the_second_image_is_a_402(beia_mock, beia_license): ...
"""

from __future__ import annotations

from typing import Iterator

import pytest

from .mock import BeiaMock, License, __version__

LICENSE_TTL_SECONDS = 600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "beia_license(credits=100, max_concurrent=2, allowed_ips=None, ttl_seconds=600): the settings of the beia_license fixture's license",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"beia_mock {__version__}"


@pytest.fixture(scope="session")
def beia_mock() -> Iterator[BeiaMock]:
    """The beia mock of this test session, started (or found) as the environment says, stopped at its end."""
    mock = BeiaMock.from_env()
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def beia_license(beia_mock: BeiaMock, request: pytest.FixtureRequest) -> Iterator[License]:
    """A license of this test's own (100 credits unless ``@pytest.mark.beia_license(credits=...)``), deleted after it."""
    marker = request.node.get_closest_marker("beia_license")
    settings = dict(marker.kwargs) if marker else {}
    settings.setdefault("ttl_seconds", LICENSE_TTL_SECONDS)
    license = beia_mock.create_license(**settings)
    try:
        yield license
    finally:
        beia_mock.delete_license(license, missing_ok=True)
