"""Shared test helpers."""
from __future__ import annotations

import math


def assert_close(actual: float, expected: float, rtol: float = 1e-9, atol: float = 1e-12,
                 what: str = "") -> None:
    """Assert two floats agree within ``rtol``/``atol``; the failure shows both numbers."""
    actual, expected = float(actual), float(expected)
    if not math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        label = f"{what}: " if what else ""
        raise AssertionError(f"{label}got {actual!r}, expected {expected!r} "
                             f"(difference {actual - expected:.3g}, rtol={rtol}, atol={atol})")


def assert_all_close(actual, expected, rtol: float = 1e-9, atol: float = 1e-12,
                     what: str = "") -> None:
    """Element-wise :func:`assert_close` over (nested) sequences of equal shape."""
    if isinstance(expected, (int, float)):
        assert_close(actual, expected, rtol, atol, what)
        return
    actual, expected = list(actual), list(expected)
    if len(actual) != len(expected):
        raise AssertionError(f"{what}: length {len(actual)} != {len(expected)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_all_close(a, e, rtol, atol, f"{what}[{i}]")


def unwrap(text: str) -> list:
    """The lines of an explanation with each equation that was broken over lines (``= ...``,
    ``+ ...``, ``<- ...`` continued under the first ``=``, a product cut at ``*``) joined back
    into one line."""
    out: list = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if out and line.startswith("  ") and (stripped[:2] in ("= ", "+ ", "- ")
                                              or stripped.startswith("<- ")):
            out[-1] += " " + stripped
        elif out and line.startswith("  ") and stripped.startswith("*"):   # a cut product
            out[-1] += stripped
        else:
            out.append(line)
    return out
