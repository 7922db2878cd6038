"""Test helper for the beia mock (beia-kit), standard library only.

>>> from beia_mock import BeiaMock
>>> with BeiaMock.start_container() as mock:           # doctest: +SKIP
...     license = mock.create_license(credits=3)
...     response = mock.process(license, "examples/001.jpg")
...     response.status, response.headers["credits-remaining"]
(200, '2')

pytest fixtures: ``beia_mock`` (one mock per session) and ``beia_license`` (a license per test),
in ``beia_mock.pytest_plugin`` (docs/python.md in beia-kit).
"""

from .headers import Headers
from .http import AnswerLost, Response, send
from .launch import MockStartError, token_from_logs
from .mock import DEFAULT_IMAGE, BeiaMock, License, MockAdminError, VerificationError, __version__
from .multipart import File, Part, decode_mixed, encode_multipart

__all__ = [
    "AnswerLost",
    "BeiaMock",
    "DEFAULT_IMAGE",
    "File",
    "Headers",
    "License",
    "MockAdminError",
    "MockStartError",
    "Part",
    "Response",
    "VerificationError",
    "__version__",
    "decode_mixed",
    "encode_multipart",
    "send",
    "token_from_logs",
]
