"""One HTTP exchange with http.client, and the answer as a small object."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional

from .headers import Headers
from .multipart import Part, decode_mixed

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class AnswerLost(ConnectionError):
    """The mock took the request and gave no whole answer: a ``reset`` or ``truncate`` fault.

    ``kind`` is ``"reset"`` (the connection dropped before any answer) or ``"truncated"`` (the
    headers and part of the body came, then the connection dropped; ``partial`` holds what came).
    A ``ConnectionError``, so ``pytest.raises(ConnectionError)`` catches it too.
    """

    def __init__(self, message: str, kind: str, partial: bytes = b"", status: Optional[int] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.partial = partial
        self.status = status


class Response:
    """An answer: ``status``, ``headers`` (any case), ``body`` (bytes), and what a test reads of it.

    >>> response.status, response.credits_remaining, response.error_code   # doctest: +SKIP
    (402, 0, 'no_credits')
    """

    def __init__(self, status: int, reason: str, headers: Headers, body: bytes, url: str) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "") or ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def credits_remaining(self) -> Optional[int]:
        """``Credits-Remaining`` as a number (D6), or None when the answer has none."""
        value = self.headers.get("Credits-Remaining")
        return int(value) if value is not None and value.strip().isdigit() else None

    @property
    def retry_after(self) -> Optional[int]:
        """``Retry-After`` in seconds (on a 429), or None."""
        value = self.headers.get("Retry-After")
        return int(value) if value is not None and value.strip().isdigit() else None

    def _error(self) -> Dict[str, Any]:
        if "json" not in self.content_type:
            return {}
        try:
            body = self.json()
        except ValueError:
            return {}
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else {}

    @property
    def error_code(self) -> Optional[str]:
        """The mock's error code (``no_credits``, ``invalid_license``, ...), from its JSON error body (M9)."""
        code = self._error().get("code")
        return code if isinstance(code, str) else None

    @property
    def error_message(self) -> Optional[str]:
        message = self._error().get("message")
        return message if isinstance(message, str) else None

    @property
    def is_png(self) -> bool:
        return self.body.startswith(PNG_SIGNATURE)

    def parts(self) -> Dict[str, Part]:
        """The parts of a multipart/mixed answer by name: ``result``, ``cropped``, ``credits`` (D5)."""
        return {part.name or str(index): part for index, part in enumerate(decode_mixed(self.body, self.content_type))}

    def __repr__(self) -> str:
        code = f" {self.error_code}" if self.error_code else ""
        return f"<Response {self.status}{code} {self.content_type or 'no content type'}, {len(self.body)} bytes>"


def send(method: str, url: str, body: Optional[bytes] = None, headers: Optional[Mapping[str, str]] = None, timeout: float = 30.0) -> Response:
    """Sends one request and reads the whole answer; a connection the mock drops is an ``AnswerLost``.

    ``http.client`` rather than ``urllib.request``: every status comes back as a ``Response``
    (urllib raises for 4xx and 5xx), and the headers go out exactly as given.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"Failed to send {method} {url}: only http:// and https:// URLs are supported.")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    sent = dict(headers or {})
    if body is not None and not any(name.lower() == "content-length" for name in sent):
        sent["Content-Length"] = str(len(body))
    try:
        try:
            connection.request(method, target, body=body, headers=sent)
            answer = connection.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected) as error:
            raise AnswerLost(f"{method} {url}: the connection was closed before any answer ({error}).", "reset") from error
        raw_headers: List[tuple] = list(answer.getheaders())
        try:
            data = answer.read()
        except http.client.IncompleteRead as error:
            raise AnswerLost(
                f"{method} {url}: the answer was cut after {len(error.partial)} bytes of its body (status {answer.status}).",
                "truncated",
                partial=error.partial,
                status=answer.status,
            ) from error
        except ConnectionError as error:
            raise AnswerLost(f"{method} {url}: the connection dropped while the body was read ({error}).", "truncated", status=answer.status) from error
        return Response(answer.status, answer.reason, Headers(raw_headers), data, url)
    finally:
        connection.close()
