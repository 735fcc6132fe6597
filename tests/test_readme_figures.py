"""The README's figures are the ones the package computes: the verdict counts of
`microgradnet verify`."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from microgradnet.catalogue.run import run_all

README = Path(__file__).resolve().parents[1] / "README.md"
WORDS = {"confirmed": "confirmed", "errata": "erratum", "that depend": "convention",
         "that cannot be checked": "cannot-check", "side by side": "side-by-side"}


def test_the_readme_states_the_verdict_counts_verify_gives():
    text = " ".join(README.read_text().split())
    m = re.search(r"\*\*Worked examples\*\* \(`microgradnet verify`\): (\d+) claims of the four "
                  r"seeds: (.*?)\. \*\*", text)
    assert m, "the README's worked-examples figure is missing"
    stated = {WORDS[w]: int(n) for n, w in
              re.findall(r"(\d+) (confirmed|errata|that depend|that cannot be checked|"
                         r"side by side)", m.group(2))}
    counts = Counter(r["verdict"] for r in run_all())
    assert int(m.group(1)) == sum(counts.values())
    assert stated == dict(counts)
