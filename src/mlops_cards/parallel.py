"""Per-lesson work spread over processes, for checks and builds of many uncached lessons.

Lessons are independent: extracting and merging one, or rendering its notes, needs nothing from
the others. `precompute` runs such a step for many lessons in forked worker processes, which
inherit everything already loaded (no re-import, no start-up cost beyond the fork) and send back
only their results. It never changes what a command produces: the caller then goes through the
lessons in order exactly as without workers, taking a precomputed result where there is one and
doing the step itself where there is none — also where a worker failed, so an error is raised
and reported in the main process, in the same order and with the same words as ever.

Workers are forked, so this is Linux only (macOS's system libraries are not safe to fork);
elsewhere, and with one job, everything runs in the main process.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = ["available_jobs", "precompute"]

Item = TypeVar("Item")
Result = TypeVar("Result")

# Fewer uncached lessons than this are done in the main process: forking would cost about as
# much as it saves.
MIN_ITEMS = 16

# The step and its items, set just before the workers are forked: they inherit both.
_work: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def available_jobs() -> int:
    """How many processes may run at once: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def precompute(
    step: Callable[[Item], Result], items: Sequence[Item], jobs: int, min_items: int = MIN_ITEMS
) -> list[Result | None]:
    """`step(item)` for every item, in order, spread over up to `jobs` processes; None for an
    item whose step raised, and for every item when workers are not worth it or not possible
    (fewer than `min_items`: the default suits lessons, a step of seconds may use fewer)."""
    count = min(jobs, len(items))
    if count < 2 or len(items) < min_items or not sys.platform.startswith("linux"):
        return [None] * len(items)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _work
    _work = (step, items)
    try:
        # The first item is done here: whatever the step loads on first use (code lexers, emoji
        # tables) is then inherited by every worker instead of being loaded by each.
        first = _run(0)
        context = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(count, mp_context=context, initializer=_ignore_interrupts)
        # Ctrl-C reaches the whole process group: the main process stops the workers and says
        # so; the workers ignore it. It is held back while they are forked (by the first
        # submission), so none gets it before it ignores it; the main process gets it after.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            # Small chunks: lessons differ in size, and an idle worker should find more to do.
            size = max(1, len(items) // (count * 8))
            chunks = [range(i, min(i + size, len(items))) for i in range(1, len(items), size)]
            futures = [pool.submit(_run_chunk, chunk) for chunk in chunks]
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            done = [first]
            for future in futures:
                done.extend(future.result())
        except Exception:  # a worker died, or a result could not be sent: no new chunks
            pool.shutdown(cancel_futures=True)
            raise
        except BaseException:  # Ctrl-C
            _stop(pool)
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        pool.shutdown()
        return done
    except Exception:
        # No processes to be had (a container's limit), a worker died (killed for memory, say),
        # a result that would not travel: the main process does the work, and meets the
        # problem itself if there is one.
        return [None] * len(items)
    finally:
        _work = None


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now, not after the lessons they are on (Ctrl-C).

    Nothing waits for the executor's thread: it may be reading a result a stopped worker was
    half-way through writing, and would wait for the rest forever. The command exits at once
    (`cli.main`). The futures are left alone: before Python 3.12 that thread fails, printing a
    trace, when it finds a cancelled one after a worker died."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Before 3.14 the executor's processes are only in `_processes`.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops one that came while held back
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run_chunk(indexes: range) -> list[Any]:
    return [_run(index) for index in indexes]


def _run(index: int) -> Any:
    assert _work is not None
    step, items = _work
    try:
        return step(items[index])
    except Exception:  # done again in the main process, which reports it properly
        return None
