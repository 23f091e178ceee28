"""Pronunciation dictionary matching (``studio.project.pronounce``) at scale.

A 10 000-entry dictionary (sounds-like and IPA aliases, a tenth of the keys sharing a
first word with others, a tenth multi-word) is indexed (:class:`Matcher`) and matched
against an 80 000-character script with an entry every ~20 words. Matching is timed side
by side with one ``re.finditer(r"\\w+")`` pass over the same text (tokenising alone, the
floor for any word-by-word matcher), alternately ``--runs`` times; the last line is one
JSON object: milliseconds, and the ratio of the medians (matching over tokenising).

Usage: ``python tests/benchmarks/bench_dictionary.py [--runs 9] [--entries 10000]``
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time

from studio.project.lexicon import LexiconItem
from studio.project.pronounce import Matcher


def dictionary(entries: int) -> list[LexiconItem]:
    items = []
    for i in range(entries):
        if i % 10 == 0:
            text = f"Saint Name{i}"  # shares its first word with a thousand others
        elif i % 10 == 1:
            text = f"name{i} city"  # lower case: also at sentence starts
        else:
            text = f"Name{i}"
        alias = f"<<n|eɪ|m|{i % 7}>>" if i % 2 else f"nay-m {i}"
        items.append(LexiconItem(text, alias))
    return items


def script(entries: int, chars: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "and",
        "then",
        "sleeps",
    ]
    out: list[str] = []
    size = 0
    while size < chars:
        word = (rnd.choice(words) if rnd.random() > 0.05
                else rnd.choice([f"Name{rnd.randrange(entries)}", "Saint Name10", "name11 city"]))
        if rnd.random() < 0.08:
            word += "."
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=80_000)
    args = parser.parse_args()
    items = dictionary(args.entries)
    text = script(args.entries, args.chars)
    words = re.compile(r"\w+")
    build, match, tokenise = [], [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        matcher = Matcher(items)
        build.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = matcher.find(text)
        match.append(time.perf_counter() - start)
        start = time.perf_counter()
        tokens = sum(1 for _ in words.finditer(text))
        tokenise.append(time.perf_counter() - start)
    figures = {
        "entries": args.entries, "chars": len(text), "words": tokens, "matches": len(found),
        "build_ms_median": round(1000 * statistics.median(build), 2),
        "match_ms_median": round(1000 * statistics.median(match), 2),
        "tokenise_ms_median": round(1000 * statistics.median(tokenise), 2),
        "match_over_tokenise": round(statistics.median(match) / statistics.median(tokenise), 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
