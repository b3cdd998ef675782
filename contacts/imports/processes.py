"""Work spread over forked processes, its results taken back in order.

The bulk load checks a file's rows in Python, about 20 µs a row: a million rows is
most of the load's time on one core, and a thread beside the writes cannot help (it
holds the GIL). `map_in_order` hands the batches this process reads to `processes`
forked children in turn, and yields what they make of them in the same order.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Generator, Iterable
from queue import Empty, Full
from typing import Any, TypeVar

# Celery's fork of multiprocessing: a prefork pool's child is a daemon process, and
# the standard library refuses to let a daemon start processes of its own.
import billiard

T = TypeVar("T")
R = TypeVar("R")


class ProcessDied(RuntimeError):
    pass


def map_in_order(
    function: Callable[[T], R], items: Iterable[T], *, processes: int, depth: int = 2
) -> Generator[R, None, None]:
    """`function(item)` for each item, computed in `processes` forked children (item i
    by child i mod processes, at most `depth` waiting for each), yielded in order.
    An exception in a child is raised here; leaving the loop early (or an error
    here) stops the children.

    The children are forks: they see what this process had (`function` is not
    pickled); the items and the results go through pipes, pickled. Forked with
    billiard, so that a Celery prefork worker (a daemon process) may."""
    context = billiard.get_context("fork")
    inputs = [context.Queue() for _ in range(processes)]
    outputs = [context.Queue() for _ in range(processes)]
    parent = os.getpid()
    children = [
        context.Process(
            target=_child,
            args=(function, inputs[n], outputs[n], parent),
            name=f"import-check-{n}",
            daemon=True,
        )
        for n in range(processes)
    ]
    source = iter(items)
    sent = received = 0

    def send() -> None:
        nonlocal sent
        for item in source:
            inputs[sent % processes].put(item)
            sent += 1
            return

    try:
        for child in children:
            child.start()
        for _ in range(processes * depth):
            send()
        while received < sent:
            n = received % processes
            result = _get(outputs[n], children[n])
            if isinstance(result, BaseException):
                raise result
            received += 1
            send()  # to child n, whose turn it is again
            yield result
    finally:
        started = [child for child in children if child.pid is not None]
        for child in started:
            child.terminate()
        for child in started:
            child.join()
        for queue in inputs + outputs:
            queue.close()
            queue.cancel_join_thread()


def _get(queue: Any, child: Any) -> Any:
    while True:
        try:
            return queue.get(timeout=1)
        except Empty:
            if child.is_alive():
                continue
            try:
                return queue.get(timeout=0.1)  # what it sent before it ended
            except Empty:
                raise ProcessDied(
                    f"The import's checking process {child.name} stopped "
                    f"(exit code {child.exitcode}); the import can be run again."
                ) from None


def _child(function: Callable[[Any], Any], inputs: Any, outputs: Any, parent: int) -> None:
    while True:
        try:
            item = inputs.get(timeout=1)
        except Empty:
            if os.getppid() != parent:  # the parent was killed: nobody will send more
                os._exit(1)
            continue
        try:
            result = function(item)
        except BaseException as exc:
            try:
                pickle.dumps(exc)
            except Exception:
                exc = RuntimeError(f"{type(exc).__name__}: {exc}")
            result = exc
        try:
            outputs.put(result)
        except Full:  # unbounded: cannot happen
            os._exit(1)
