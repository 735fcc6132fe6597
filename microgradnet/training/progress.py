"""Progress bars: tqdm's where it is installed (the ``data`` extra brings it), else a small
one of the same shape. Either draws only on a terminal by default, so a log file or a pipe
gets no carriage-return redraws.
"""
from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, Sized, TextIO

__all__ = ["Progress", "progress", "progress_bar"]


def _is_terminal(file) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:          # a closed file
        return False


def progress_bar(total: int, desc: str = "", file: TextIO | None = None,
                 disable: bool | None = None):
    """A bar over ``total`` steps with ``update()``, ``set_postfix(**values)`` and
    ``close()``: a ``tqdm.tqdm`` when tqdm is installed, else a :class:`Progress`.

    Args:
        disable: True draws nothing; None (the default) draws only when ``file`` (stderr by
            default) is a terminal, as tqdm's ``disable=None`` does.
    """
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"progress_bar: total must be a non-negative int, got {total!r}")
    file = file if file is not None else sys.stderr
    if disable is None:
        disable = not _is_terminal(file)
    try:
        from tqdm import tqdm
    except ImportError:
        return Progress(total, desc, file=file, disable=disable)
    return tqdm(total=total, desc=desc or None, file=file, disable=disable, leave=True,
                dynamic_ncols=True)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """A progress bar over ``total`` steps, redrawn in place at most ``1/min_interval`` times a
    second: ``desc  42%|########          | 34/81 [00:02<00:03, 15.1it/s, loss=0.532]``.

    Args:
        total: the number of steps.
        desc: a label in front of the bar.
        file: where to draw (stderr by default).
        disable: draw nothing.
        width: the bar's width in characters.
        min_interval: seconds between redraws.

    Example:
        >>> import io
        >>> bar = Progress(2, "demo", file=io.StringIO())
        >>> bar.update(); bar.set_postfix(loss=0.5); bar.update(); bar.close()
    """

    def __init__(self, total: int, desc: str = "", file: TextIO | None = None,
                 disable: bool = False, width: int = 24, min_interval: float = 0.1) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"Progress: total must be a non-negative int, got {total!r}")
        self.total, self.desc, self.width = total, desc, width
        self.file = file if file is not None else sys.stderr
        self.disable = disable
        self.min_interval = min_interval
        self.n = 0
        self.postfix = ""
        self.start = time.perf_counter()
        self._last = -1e9

    def set_postfix(self, refresh: bool = True, **values) -> None:
        """Show ``name=value`` pairs after the bar (floats with 4 significant digits); the
        next :meth:`update` draws them (``refresh`` is tqdm's argument, accepted)."""
        self.postfix = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                 for k, v in values.items())

    def line(self) -> str:
        """The bar as text."""
        elapsed = time.perf_counter() - self.start
        frac = self.n / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        rate = self.n / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.n) / rate if rate > 0 else 0.0
        post = f", {self.postfix}" if self.postfix else ""
        head = f"{self.desc} " if self.desc else ""
        return (f"{head}{frac:4.0%}|{'#' * filled}{' ' * (self.width - filled)}| "
                f"{self.n}/{self.total} [{_clock(elapsed)}<{_clock(left)}, {rate:.1f}it/s{post}]")

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps and redraw if enough time has passed."""
        self.n += n
        now = time.perf_counter()
        if not self.disable and (now - self._last >= self.min_interval or self.n >= self.total):
            self._last = now
            self.file.write("\r" + self.line())
            self.file.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if not self.disable:
            self.file.write("\r" + self.line() + "\n")
            self.file.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(iterable: Iterable, total: int | None = None, desc: str = "",
             disable: bool | None = None, file: TextIO | None = None) -> Iterator:
    """Iterate over ``iterable`` while drawing a :func:`progress_bar` (on a terminal only,
    unless ``disable`` says otherwise)."""
    if total is None:
        if not isinstance(iterable, Sized):
            raise TypeError(f"progress: a {type(iterable).__name__} has no length; give total=")
        total = len(iterable)
    bar = progress_bar(total, desc, file=file, disable=disable)
    try:
        for item in iterable:
            yield item
            bar.update()
    finally:
        bar.close()
