"""no_gc(): the cyclic collector paused inside the block only, given back as it was (exceptions,
nesting, threads), cyclic garbage still collected, and someone else's frozen objects left alone."""
from __future__ import annotations

import gc
import sys
import threading
import weakref

import pytest

from microgradnet import Value, grad, no_gc


class Cycle:
    """An object in a reference cycle with itself: only the cyclic collector frees it."""
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector_on():
    assert gc.isenabled()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after(collector_on):
    with no_gc():
        assert not gc.isenabled()
        y = Value(2.0) * 3 + 1
        y.backward()
    assert gc.isenabled()


def test_the_collector_comes_back_after_an_exception(collector_on):
    with pytest.raises(RuntimeError):
        with no_gc():
            Value(1.0) * 2
            raise RuntimeError("inside the block")
    assert gc.isenabled()


def test_nested_blocks_resume_only_when_the_outermost_closes(collector_on):
    with no_gc():
        with no_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_user_stays_off(collector_on):
    gc.disable()
    with no_gc():
        pass
    assert not gc.isenabled()
    x = Value(2.0)
    x.backward()
    grad(x * x, x)
    assert not gc.isenabled()


def test_cyclic_garbage_made_inside_is_still_collected(collector_on):
    with no_gc():
        ref = weakref.ref(Cycle())
        assert ref() is not None  # nothing collects it while paused
    assert gc.get_freeze_count() == 0  # handed to the collector, not hidden from it
    gc.collect()
    assert ref() is None


def test_objects_frozen_by_someone_else_stay_frozen(collector_on):
    keep = [Cycle() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with no_gc():
            Value(1.0) * 2
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del keep


def test_blocks_in_threads_never_leave_the_collector_off(collector_on):
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    inside = []

    def work() -> None:
        for _ in range(200):
            with no_gc():
                inside.append(gc.isenabled())
                (Value(1.5) * 2 + 1).backward()

    try:
        for _ in range(5):
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert gc.isenabled()
    finally:
        sys.setswitchinterval(saved)
    # no block ever ran with the collector on: one thread's exit cannot resume it under another
    assert not any(inside)
