"""Run every benchmark module (``bench/*_bench.py``), or the ones named.

``python -m bench`` runs all; ``python -m bench feeds search`` runs
``feeds_bench`` and ``search_bench``. Each module has ``main() -> None`` and
prints its figures.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removesuffix("_bench") for p in here.glob("*_bench.py"))
    for name in names:
        print(f"== bench: {name}", flush=True)
        importlib.import_module(f"bench.{name}_bench").main()


if __name__ == "__main__":
    main(sys.argv[1:])
