"""The record every worked example returns, and the registry that collects them.

A worked example is a function decorated with :func:`example`; it builds the claim with the
engine (never by re-typing the seed's answer) and returns a :class:`Result`.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Result", "Example", "EXAMPLES", "example", "report", "VERDICTS", "judge"]

#: confirmed: the seed is right; erratum: the seed is wrong (``note`` says what is right and
#: why); convention: the answer depends on a stated convention (``note`` names the one used);
#: cannot-check: the claim rests on something the seed does not contain (a figure), so the
#: example can only illustrate it; side-by-side: the engine reproduces the experiment on other
#: data, and the figures stand next to the seed's rather than being judged against them;
#: pending: the check needs results that are not there (a training run not made yet).
VERDICTS = ("confirmed", "erratum", "convention", "cannot-check", "side-by-side", "pending")


def judge(seed_holds: bool) -> str:
    """The verdict on a claim the engine has just computed: ``"confirmed"`` when the seed's
    statement held in the computation, ``"erratum"`` when it did not. Every confirmed/erratum
    verdict goes through a test like this one, so a change in the engine's numbers changes it."""
    return "confirmed" if seed_holds else "erratum"


@dataclass
class Result:
    """What a worked example found.

    Attributes:
        problem: the problem, stated in the project's own words (the numbers, the network,
            what is asked), so a reader can follow without the seed.
        seed_says: the seed's stated answer, in short (numbers or an expression).
        engine_says: the engine's answer, in short.
        verdict: one of :data:`VERDICTS`.
        note: for an erratum, what is right and why; for a convention, which one is used.
        values: the engine's numbers by name, for tests (e.g. ``{"h1": 2.0}``).
        graph: the root ``Value`` of a graph to explain or draw, if the example has one.
        extra: anything else an explainer, picture or notebook may use (named nodes, params).
    """
    seed_says: str
    engine_says: str
    verdict: str
    note: str = ""
    values: dict = field(default_factory=dict)
    graph: Any = None
    extra: dict = field(default_factory=dict)
    problem: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


@dataclass(frozen=True)
class Example:
    """A registered worked example: the claim id of TEXTBOOK.md, the seed file, the section."""
    id: str
    seed: str
    section: str
    title: str
    fn: Callable[[], Result]

    def run(self) -> Result:
        return self.fn()

    def describe(self, result: Result, width: int = 96) -> str:
        """The claim, where it stands in the seed, the seed's answer, the engine's and the
        verdict, as a few wrapped lines (``S1-3.3  [confirmed]  title``, then the rest)."""
        lines = [f"{self.id}  [{result.verdict}]  {self.title}",
                 f"  seed {self.seed}, section {self.section}"]
        for name, text in (("problem", result.problem), ("seed says", result.seed_says),
                           ("engine says", result.engine_says), ("note", result.note)):
            if text:
                lines.append(textwrap.fill(text, width, initial_indent=f"  {name + ':':<13}",
                                           subsequent_indent=" " * 15))
        return "\n".join(lines)


EXAMPLES: dict[str, Example] = {}


def report(claim_id: str) -> Result:
    """Run the worked example for ``claim_id``, print :meth:`Example.describe`, return the
    result (for notebooks and interactive use).

    Example:
        >>> from microgradnet.catalogue import report
        >>> r = report("S1-3.3")  # doctest: +SKIP
    """
    if claim_id not in EXAMPLES:
        raise KeyError(f"no worked example {claim_id!r}; `microgradnet list` shows them all")
    ex = EXAMPLES[claim_id]
    result = ex.run()
    print(ex.describe(result))
    return result


def example(id: str, seed: str, section: str, title: str) -> Callable:
    """Register ``fn`` as the worked example for claim ``id``."""
    def deco(fn: Callable[[], Result]) -> Callable[[], Result]:
        if id in EXAMPLES:
            raise ValueError(f"worked example {id!r} is registered twice")
        EXAMPLES[id] = Example(id, seed, section, title, fn)
        return fn
    return deco
