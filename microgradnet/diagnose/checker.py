"""Marking answers: each answer correct or wrong, and for a wrong one the slips that
reproduce it (:mod:`.search`, written by :mod:`.report`).

A :class:`Checker` analyses the graph once and marks any number of answers on it, so a marking
script for fifty sheets pays for the sweep once; :func:`diagnose` marks one answer.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Optional, Sequence, Union

from ..engine import Value
from .problem import Answer, Problem, Target
from .report import Diagnosis, explain_slips
from .search import replay, search, single_effects
from .slips import candidates

__all__ = ["Checker", "diagnose"]

Given = Union[str, int, float]


class Checker:
    """Marks answers about one graph.

    Args:
        root: the output (the loss).
        params: the parameter leaves (``None``: leaves labelled like ``w21``, ``b1``).
        lr: the learning rate, for ``new:LABEL`` answers.

    Example:
        >>> from microgradnet.catalogue.seed001 import build_s1_3
        >>> net = build_s1_3()
        >>> checker = Checker(net["MSE"], lr=0.1)
        >>> checker.diagnose("dMSE/dw21", "-1.50").correct
        True
        >>> checker.diagnose("dMSE/dw21", "-2.0").kinds[0]
        'dropped-path'
    """

    def __init__(self, root: Value, params: Optional[Iterable[Value]] = None,
                 lr: Optional[float] = None) -> None:
        self.problem = Problem(root, params, lr)
        self._singles: dict = {}     # (kind, node index) -> single_effects of that target

    def diagnose(self, target: str, given: Given, *, depth: int = 1,
                 decimals: Optional[int] = None) -> Diagnosis:
        """Mark one answer.

        Args:
            target: ``LABEL`` (a node's value), ``dROOT/dLABEL`` (a gradient) or
                ``new:LABEL`` (a parameter after one gradient-descent step).
            given: the student's number, a string (its decimals are its rounding) or a number.
            depth: 1 for single slips; 2 also tries every pair when no single slip explains.
            decimals: the rounding to judge by, instead of the answer's own.

        Returns:
            A :class:`~microgradnet.diagnose.report.Diagnosis`.

        Raises:
            ValueError: an unknown label, a number that is not one, ``new:`` without a
                learning rate, a depth other than 1 or 2.
        """
        p = self.problem
        t = p.target(target)
        answer = Answer.read(given, decimals)
        expected = p.expected(t)
        if answer.matches(expected):
            return Diagnosis(t.text, answer.value, True, expected, as_written=answer.text)
        key = (t.kind, p.index[t.node])
        if key not in self._singles:
            self._singles[key] = single_effects(p, t)
        matches, note = search(p, t, answer, depth, self._singles[key])
        findings = explain_slips(p, t, matches)
        if not findings and not note:
            tried = len(candidates(p, t))   # those that change the answer and the rest
            if t.kind == "value" and t.node.is_leaf:
                note = f"{t.text} is given, not computed: no slip changes it"
            else:
                note = (f"no slip of the library reproduces it ({tried} single slips"
                        + (" and their pairs" if depth == 2 else "") + " tried)")
        return Diagnosis(t.text, answer.value, False, expected, tuple(findings), note,
                         as_written=answer.text)

    def check(self, answers: Union[Mapping[str, Given], Sequence], *, depth: int = 1,
              decimals: Optional[int] = None) -> list:
        """Mark several answers of one student: a :class:`Diagnosis` each, in the order
        given.

        The answers are read together. A slip that would have changed an answer the student
        got right is ruled out (the note says which and why), unless every slip that gives
        the number is; a slip that also gives another of the student's wrong numbers comes
        first, and the note says so. An answer no slip explains says where the student's
        numbers first part from the engine's, in the order of the computation: values
        forward, then gradients from the output down, then the updates.

        Args:
            answers: ``{"h1": "2.0", "dMSE/dw21": "-2.0"}``, or a list of ``(target, given)``
                pairs or of ``"LABEL=VALUE"`` strings.
        """
        pairs = _pairs(answers)
        results = [self.diagnose(t, g, depth=depth, decimals=decimals) for t, g in pairs]
        read = [(self.problem.target(t), Answer.read(g, decimals), r.correct)
                for (t, g), r in zip(pairs, results, strict=True)]
        results = [self._read_together(r, [x for k, x in enumerate(read) if k != n])
                   for n, r in enumerate(results)]
        wrong = [(self._rank(self.problem.target(t)), r)
                 for (t, _), r in zip(pairs, results, strict=True) if not r.correct]
        if not wrong or len(pairs) < 2:
            return results
        first = min(wrong, key=lambda x: x[0])[1]
        diff = {"target": first.target, "given": first.given, "expected": first.expected}
        return [r if r.explained else dataclasses.replace(r, first_difference=diff)
                for r in results]

    def _read_together(self, r: Diagnosis, others: list) -> Diagnosis:
        """``r``'s findings read with the student's ``others`` answers ``(target, answer,
        correct)``: without those that would have changed a right one, those that also give
        another wrong one first."""
        if r.correct or not r.slips or not others:
            return r
        kept: list = []
        ruled_out: list = []
        for f in r.slips:
            gives = {t.text: a.matches(_or_nan(replay(self.problem, t, f.slips)))
                     for t, a, _ in others}
            broken = [t.text for t, _, right in others if right and not gives[t.text]]
            also = [t.text for t, _, right in others if not right and gives[t.text]]
            (ruled_out if broken else kept).append((f, broken, also))
        if not kept:                     # nothing agrees with the right answers: keep all
            kept, ruled_out = ruled_out, []
        kept.sort(key=lambda x: -len(x[2]))
        notes = [f"{f.kind} at {f.where} also gives your {', '.join(also)}"
                 for f, _, also in kept if also]
        if ruled_out:
            notes.append("ruled out by your right answers: " + "; ".join(
                f"{f.kind} at {f.where} (it changes {', '.join(b)})" for f, b, _ in ruled_out))
        if not notes:
            return r
        return dataclasses.replace(r, slips=tuple(f for f, _, _ in kept),
                                   note="; ".join(notes))

    def _rank(self, t: Target) -> tuple:
        """Where a target sits in the order of computation."""
        i = self.problem.index[t.node]
        kind = ("value", "grad", "update").index(t.kind)
        return (kind, i if t.kind != "grad" else -i)


def _or_nan(x: Optional[float]) -> float:
    return float("nan") if x is None else x


def _pairs(answers) -> list:
    from .problem import parse_answer
    if isinstance(answers, Mapping):
        return list(answers.items())
    if isinstance(answers, (str, bytes)) or not isinstance(answers, Sequence):
        raise TypeError("answers must be a mapping {target: value} or a list of "
                        "(target, value) pairs or 'LABEL=VALUE' strings")
    out = []
    for a in answers:
        if isinstance(a, str):
            out.append(parse_answer(a))
        elif isinstance(a, tuple) and len(a) == 2:
            out.append(a)
        else:
            raise TypeError(f"an answer must be 'LABEL=VALUE' or a (target, value) pair, "
                            f"got {a!r}")
    return out


def diagnose(root: Value, target: str, given: Given, *, lr: Optional[float] = None,
             params: Optional[Iterable[Value]] = None, depth: int = 1,
             decimals: Optional[int] = None) -> Diagnosis:
    """Mark one answer about the graph of ``root``: correct (within the answer's rounding)
    or wrong, and for a wrong one every slip that reproduces it.

    A marking script that checks many answers on one graph keeps a :class:`Checker`.

    Example:
        >>> from microgradnet.catalogue.seed001 import build_s1_3
        >>> d = diagnose(build_s1_3()["MSE"], "dMSE/dw21", -2.0)
        >>> d.correct, d.expected, d.slips[0].kind
        (False, -1.5, 'dropped-path')
    """
    return Checker(root, params, lr).diagnose(target, given, depth=depth, decimals=decimals)
