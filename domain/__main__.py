"""``python -m domain simulate ...``: the command side's tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = "usage: python -m domain simulate [options]   (python -m domain simulate --help)"


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "simulate":
        from domain.simulator.cli import main as simulate

        return simulate(rest)
    print(f"unknown command {command!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
