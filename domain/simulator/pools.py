"""Small containers of the simulated population: random-pick pools and id counters."""

from __future__ import annotations

import random


class Pool:
    """A set of ids with O(1) add, discard and a uniform random pick.

    Its order depends only on the order of operations (never on string hashing), so the
    same seed picks the same ids in every process.
    """

    def __init__(self) -> None:
        self._items: list[str] = []
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def add(self, key: str) -> None:
        if key not in self._index:
            self._index[key] = len(self._items)
            self._items.append(key)

    def discard(self, key: str) -> None:
        index = self._index.pop(key, None)
        if index is None:
            return
        last = self._items.pop()
        if index < len(self._items):  # move the last item into the hole
            self._items[index] = last
            self._index[last] = index

    def toggle(self, key: str, member: bool) -> None:
        if member:
            self.add(key)
        else:
            self.discard(key)

    def choice(self, rng: random.Random) -> str | None:
        return self._items[rng.randrange(len(self._items))] if self._items else None


class IdCounter:
    """Sequential ids like ``U000042``; ids seen in the store move the counter past them."""

    def __init__(self, prefix: str, digits: int) -> None:
        self.prefix, self.digits = prefix, digits
        self.last = 0

    def saw(self, identifier: str) -> None:
        number = identifier[len(self.prefix) :]
        if identifier.startswith(self.prefix) and number.isdigit():
            self.last = max(self.last, int(number))

    def next(self) -> str:
        self.last += 1
        return f"{self.prefix}{self.last:0{self.digits}d}"
