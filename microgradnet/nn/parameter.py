"""``Parameter``: a ``Value`` that a ``Module`` registers as one of its parameters.

As with ``torch.nn.Parameter``, the type says what is learnt: a Parameter assigned to a module
attribute (alone or in nested lists) is registered; a plain ``Value`` cached on ``self`` in
``forward`` is not, so it never reaches the optimiser or the state dict.
"""
from __future__ import annotations

from ..engine import Value


class Parameter(Value):
    """A leaf ``Value`` that a module learns (``Parameter(0.5, label="w")``).

    It is a Value in every other respect: it joins graphs, takes ``.grad``, and prints as a
    Value. ``Module.register_parameter`` registers Values of any kind explicitly.
    """

    __slots__ = ()


def holds_parameter(obj) -> bool:
    """Whether ``obj`` is a Parameter or a (nested) list or tuple holding one."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, Parameter):
            return True
        if isinstance(o, (list, tuple)):
            stack.extend(o)
    return False
