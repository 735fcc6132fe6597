"""Checking a student's answer, and naming the slip that produced a wrong one.

The known slips of backpropagation by hand (a path left out, a sign lost, the other value at a
kink, a factor or the mean forgotten, the step taken uphill or without the rate, z for a,
swapped indices, a bias or a term left out, one product or sum slipped) are changes to the
graph, to one local derivative or to the update. The engine replays each and compares the
result with the student's number.

- :mod:`.problem`: what a check reads of a graph, and what an answer asks for;
- :mod:`.slips`: the library of slips;
- :mod:`.search`: which slips reproduce a number;
- :mod:`.report`: the findings as records and text;
- :mod:`.checker`: marking answers, :func:`diagnose` and :class:`Checker`.

Example:
    >>> from microgradnet.catalogue.seed001 import build_s1_3
    >>> d = diagnose(build_s1_3()["MSE"], "dMSE/dw21", "-2.0")
    >>> d.slips[0].kind
    'dropped-path'
    >>> d.slips[0].explanation.split(": ")[:2]
    ['your value equals the path through o2 alone', 'the path through o1 is missing']
"""
from __future__ import annotations

from .checker import Checker, diagnose
from .problem import Answer, Problem, Target, parse_answer
from .report import Diagnosis, Finding
from .search import effect, replay, search
from .slips import KINDS, Slip, candidates

__all__ = ["diagnose", "Checker", "Diagnosis", "Finding", "KINDS", "Slip", "candidates",
           "Problem", "Target", "Answer", "parse_answer", "search", "effect", "replay"]
