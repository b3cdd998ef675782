"""contacts/imports/processes.py: the bulk load's batches checked in forked processes
come back in the file's order, and a failing or vanished process is an error here,
never a hang or a silently short import."""

from __future__ import annotations

import os
import signal

import billiard
import pytest

from contacts.imports.processes import ProcessDied, map_in_order


def _with_pid(n: int) -> tuple[int, int]:
    return n * 10, os.getpid()


def test_the_results_come_back_in_the_order_of_the_items():
    results = list(map_in_order(_with_pid, range(11), processes=3))
    assert [n for n, _ in results] == [n * 10 for n in range(11)]
    # the work was spread: three processes of their own, none of them this one
    pids = {pid for _, pid in results}
    assert len(pids) == 3 and os.getpid() not in pids


def test_fewer_items_than_processes_is_not_a_wait():
    assert [n for n, _ in map_in_order(_with_pid, [1], processes=3)] == [10]
    assert list(map_in_order(_with_pid, [], processes=2)) == []


class _BadRow(ValueError):
    pass


def _fails_on_3(n: int) -> int:
    if n == 3:
        raise _BadRow("line 4 is broken")
    return n


def test_an_exception_in_a_process_is_raised_here_after_the_results_before_it():
    seen = []
    with pytest.raises(_BadRow, match="line 4 is broken"):
        for n in map_in_order(_fails_on_3, range(6), processes=2):
            seen.append(n)
    assert seen == [0, 1, 2]


def test_an_exception_while_reading_the_items_is_raised_here_and_stops_the_processes():
    def items():
        yield from range(3)
        raise _BadRow("line 9 is not UTF-8")

    with pytest.raises(_BadRow, match="line 9"):
        list(map_in_order(_with_pid, items(), processes=2))
    assert billiard.active_children() == []


def _killed_on_5(n: int) -> int:
    if n == 5:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return n


def test_a_process_killed_midway_is_an_error_not_a_hang():
    with pytest.raises(ProcessDied, match="stopped"):
        list(map_in_order(_killed_on_5, range(10), processes=2))


def test_leaving_the_loop_early_stops_the_processes():
    def endless():
        n = 0
        while True:
            yield n
            n += 1

    for n, _ in map_in_order(_with_pid, endless(), processes=2):
        if n == 40:
            break
    assert billiard.active_children() == []
