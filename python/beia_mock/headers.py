"""Response headers whose names match in any case (RFC 9110, section 5.1)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import List, Optional, Tuple


class Headers(Mapping):
    """The headers of an answer, looked up in any case.

    The mock (like many servers) spells a header one way on some answers and another way on
    others (``Credits-Remaining``, ``credits-remaining``); here both find it. As a mapping its
    keys are the lower-case names, so ``dict(headers)`` is the same whatever the spelling.

    >>> headers = Headers([("Credits-Remaining", "99"), ("Content-Type", "image/png")])
    >>> headers["credits-remaining"], headers.get("CONTENT-TYPE")
    ('99', 'image/png')
    >>> dict(headers)
    {'credits-remaining': '99', 'content-type': 'image/png'}
    """

    def __init__(self, items: Iterable[Tuple[str, str]] = ()) -> None:
        self._items: List[Tuple[str, str]] = [(str(name), str(value)) for name, value in items]

    def get_all(self, name: str) -> List[str]:
        """Every value of this header, in the order sent (a header may be sent more than once)."""
        key = name.lower()
        return [value for item_name, value in self._items if item_name.lower() == key]

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        # RFC 9110, 5.3: repeated fields combine into one, separated by commas.
        return ", ".join(values)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __iter__(self) -> Iterator[str]:
        seen = []
        for name, _ in self._items:
            key = name.lower()
            if key not in seen:
                seen.append(key)
        return iter(seen)

    def __len__(self) -> int:
        return len({name.lower() for name, _ in self._items})

    def raw(self) -> List[Tuple[str, str]]:
        """The headers as sent: names in their own spelling, repeats kept."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"
