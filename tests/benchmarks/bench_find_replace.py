"""Find and replace over a long script: time to search and to compute Replace all for
N = 1 000 and 10 000 blocks (three sentences each, one inline tag per sentence), for a
whole-word name, a regex with groups, and the worst case ``.``. Prints one JSON line.

    .venv/bin/python tests/benchmarks/bench_find_replace.py
"""

from __future__ import annotations

import json
import time

from studio.project.find_replace import FindOptions, find, passages, replace_all
from studio.project.model import Block

SENTENCE = 'Block {i}: Anna walks <break time="1s"/> to the river with Ben. '
SEARCHES = {
    "name": FindOptions("anna", "Hannah", whole_word=True),
    "groups": FindOptions(r"(\w+) with (\w+)", r"\2 with \1", regex=True),
    "any_char": FindOptions(".", "x", regex=True),
}


def _ms(fn, *args) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return round((time.perf_counter() - start) * 1000, 1), result


def main() -> None:
    figures: dict[str, dict[str, float]] = {}
    for n in (1_000, 10_000):
        blocks = [Block(text=SENTENCE.format(i=i) * 3) for i in range(n)]
        snapshot_ms, snapshot = _ms(passages, blocks)
        row: dict[str, float] = {"snapshot_ms": snapshot_ms}
        for name, options in SEARCHES.items():
            row[f"find_{name}_ms"], found = _ms(find, snapshot, options)
            row[f"replace_{name}_ms"], _ = _ms(replace_all, snapshot, options)
            row[f"matches_{name}"] = found.total  # type: ignore[attr-defined]
        figures[str(n)] = row
    print(json.dumps({"bench": "find_replace", "blocks": figures}))


if __name__ == "__main__":
    main()
