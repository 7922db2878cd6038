"""The helper's own tests: they use only beia_mock and its fixtures, against the mock the
environment names (BEIA_MOCK_START=docker, docker-host or command; or BEIA_MOCK_URL)."""

import os
import struct
import sys
import zlib
from pathlib import Path

import pytest

try:
    import beia_mock  # noqa: F401  installed (pip install --no-build-isolation ./python)
except ImportError:  # used by path: the folder above this one holds the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

pytest_plugins = ["beia_mock.pytest_plugin"]

# How the session's mock was started: the tests of starting follow it.
MODE = "url" if os.environ.get("BEIA_MOCK_URL") else os.environ.get("BEIA_MOCK_START") or "docker"


def png(width: int, height: int) -> bytes:
    """A real RGB PNG made with zlib: the mock decodes it (no JPEG encoder in the standard library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 7 % 256, y * 5 % 256, (x + y) % 256)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def image() -> bytes:
    return png(64, 48)
