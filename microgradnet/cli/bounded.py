"""A command that runs a user's code under a hard time limit (``render --file F --timeout S``).

The command runs in a child process (``os.fork``) and the parent only waits. The child tells
the parent through a pipe when the user's part is over (running the file, ``build()``, the
backward pass), and again when the command has finished. If the first word has not come within
the limit, the parent kills the child with SIGKILL and prints one line. A kill cannot be caught,
ignored or outrun: the limit holds for a file that catches ``TimeoutError``, that ignores
SIGALRM, that spins in a non-daemon thread, or that is stuck inside one long C call, where an
alarm signal in the same process would not. The child ends with ``os._exit``, so threads the
file leaves running do not keep it alive; processes the file starts itself are not killed.

A child that ends before saying it finished (the file called ``posix._exit``, or killed its own
process) is reported too, instead of passing for a command that succeeded in silence.
"""
from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
import traceback
from typing import Callable

__all__ = ["can_bound", "run_bounded", "BoundedOutcome"]

_USER_DONE, _FINISHED = b"u", b"f"


def can_bound() -> bool:
    """Can this process run a command under a hard limit (POSIX ``fork``, main thread)?"""
    return hasattr(os, "fork") and threading.current_thread() is threading.main_thread()


class BoundedOutcome:
    """How a bounded command ended: ``status`` (its exit status) when it finished; else
    ``timed_out``, or ``ended`` (how the process ended without finishing, for a message)."""

    def __init__(self, status: int = 1, timed_out: bool = False,
                 ended: str = "") -> None:
        self.status, self.timed_out, self.ended = status, timed_out, ended


def run_bounded(seconds: float, work: Callable[[Callable[[], None]], int]) -> BoundedOutcome:
    """Run ``work(user_done)`` in a child process, killed if it has not called ``user_done()``
    within ``seconds``; ``work`` returns the command's exit status and prints its own output
    (the child shares stdout and stderr). Ctrl-C kills the child and raises KeyboardInterrupt
    here, as it would have without the child."""
    for stream in (sys.stdout, sys.stderr):     # else both processes would print the buffer
        stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                # the child: never returns into the caller
        status = 1

        def say(word: bytes) -> None:
            try:
                os.write(write_end, word)
            except OSError:     # the file closed the pipe: the parent then waits for the exit
                pass
        try:
            os.close(read_end)
            # Ctrl-C reaches both processes; the parent alone answers it.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            status = work(lambda: say(_USER_DONE))
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            say(_FINISHED)
        except BaseException:   # a bug of ours (a broken import): loud, as in one process
            traceback.print_exc()
            sys.stderr.flush()
            say(_FINISHED)
        finally:
            os._exit(status)
    os.close(write_end)
    child = _Child(pid)
    # Stopped by `kill` or `timeout`, the parent takes the child with it.
    old_term = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _wait(child, read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        child.kill()            # Ctrl-C or an error here: the child must not outlive us
        signal.signal(signal.SIGTERM, old_term)


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


class _Child:
    """The child process, reaped exactly once (its pid may be reused after that)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None

    def poll(self) -> int | None:
        """The wait status if the child has ended (reaping it), else None."""
        if self.status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = status
        return self.status

    def kill(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            _, self.status = os.waitpid(self.pid, 0)


def _wait(child: _Child, read_end: int, deadline: float) -> BoundedOutcome:
    said, pipe_open = b"", True
    while True:
        user_done = _USER_DONE in said
        left = None if user_done else deadline - time.monotonic()
        if left is not None and left <= 0:
            child.kill()
            return BoundedOutcome(timed_out=True)
        if pipe_open:
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                chunk = os.read(read_end, 64)
                said += chunk
                pipe_open = bool(chunk)
            continue
        # The pipe closed: the child ended, or the file closed the pipe and runs on.
        status = child.poll()
        if status is None:
            time.sleep(0.01)
            continue
        code = os.waitstatus_to_exitcode(status)
        if _FINISHED in said:
            return BoundedOutcome(status=code)
        how = f"exit status {code}" if code >= 0 else f"signal {-code}"
        return BoundedOutcome(ended=how)
