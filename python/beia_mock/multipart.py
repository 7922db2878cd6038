"""multipart/form-data out (RFC 7578) and multipart/mixed in (RFC 2046), standard library only.

Python's standard library has no multipart/form-data encoder (``email`` writes MIME mail, whose
line and header rules differ); these few lines are the one every team would otherwise write.
"""

from __future__ import annotations

import email.parser
import email.policy
import os
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union


@dataclass(frozen=True)
class File:
    """A file part: its bytes, the filename sent, and its content type.

    The vendor's samples send the image as ``application/octet-stream`` with its filename (D9).

    >>> File(b"\\xff\\xd8...", "001.jpg").content_type
    'application/octet-stream'
    """

    data: bytes
    filename: str
    content_type: str = "application/octet-stream"

    @classmethod
    def from_path(cls, path: Union[str, "os.PathLike[str]"], content_type: str = "application/octet-stream") -> "File":
        """The file at ``path``, sent under its own name."""
        with open(path, "rb") as handle:
            return cls(handle.read(), os.path.basename(os.fspath(path)), content_type)


FieldValue = Union[str, bytes, File]


def _quote(text: str) -> str:
    # What browsers send (the HTML standard's form encoding): a quote and line breaks escaped, so
    # no name or filename can end its header early.
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def encode_multipart(fields: Sequence[Tuple[str, FieldValue]], boundary: Optional[str] = None) -> Tuple[bytes, str]:
    """Encodes form fields as multipart/form-data; returns the body and its Content-Type header.

    Fields are sent in the order given; a ``File`` becomes a file part, text and bytes become plain
    fields (text in UTF-8).

    >>> body, content_type = encode_multipart([("apiKey", "5678"), ("image", File(b"...", "001.jpg"))])
    >>> content_type.startswith("multipart/form-data; boundary=")
    True
    """
    values = [value.data if isinstance(value, File) else value for _, value in fields]
    if boundary is None:
        boundary = f"beia-mock-{uuid.uuid4().hex}"
        while any(boundary.encode() in (v if isinstance(v, bytes) else v.encode("utf-8")) for v in values):
            boundary = f"beia-mock-{uuid.uuid4().hex}"
    lines: List[bytes] = []
    for name, value in fields:
        lines.append(f"--{boundary}\r\n".encode())
        if isinstance(value, File):
            lines.append(f'Content-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(value.filename)}"\r\n'.encode())
            lines.append(f"Content-Type: {value.content_type}\r\n\r\n".encode())
            lines.append(value.data)
        else:
            lines.append(f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode())
            lines.append(value if isinstance(value, bytes) else value.encode("utf-8"))
        lines.append(b"\r\n")
    lines.append(f"--{boundary}--\r\n".encode())
    return b"".join(lines), f"multipart/form-data; boundary={boundary}"


@dataclass(frozen=True)
class Part:
    """One part of a multipart/mixed answer: ``result``, ``cropped`` (PNGs) or ``credits`` (text)."""

    name: Optional[str]
    content_type: str
    data: bytes
    filename: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def decode_mixed(body: bytes, content_type: str) -> List[Part]:
    """The parts of a multipart/mixed body (the answer to ``includeCroppedImage=true``, D5)."""
    if not content_type.lower().startswith("multipart/"):
        raise ValueError(f"Failed to read the parts: the answer is {content_type!r}, not multipart/mixed.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise ValueError("Failed to read the parts: no boundary found in the body.")
    parts = []
    for part in message.iter_parts():
        data = part.get_payload(decode=True) or b""
        parts.append(
            Part(
                name=part.get_param("name", header="content-disposition"),
                content_type=part.get_content_type(),
                data=data,
                filename=part.get_filename(),
                headers={key.lower(): str(value) for key, value in part.items()},
            )
        )
    return parts
