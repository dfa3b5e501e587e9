"""The watchdog, for real: real child processes, real signals, in the main thread.

A test that sends Ctrl-C to its own process runs in a fresh one (``in_a_fresh_process``):
one thread, as a ``kedro run``'s main process, not the test process's many.
"""

import logging
import multiprocessing
import os
import signal
import time

import pytest

from parallel_trees.runners.supervision import Interrupt, RunStopped, Stop, Watchdog
from tests.helpers.processes import START_METHODS, in_a_fresh_process

pytestmark = pytest.mark.processes


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@pytest.fixture
def watchdog():
    dog = Watchdog(interval=0.05)
    yield dog
    dog.close()


def _child(method: str, seconds: float) -> multiprocessing.Process:
    """A child process, once the watchdog has had time to see it."""
    process = multiprocessing.get_context(method).Process(target=_sleep, args=(seconds,))
    process.start()
    time.sleep(0.2)
    return process


@pytest.mark.parametrize("method", START_METHODS)
def test_a_killed_child_is_seen_at_once_and_the_others_are_ended(watchdog, method):
    # Under ParallelRunner: the pool then fails its tasks, and the run stops.
    watchdog.start()
    doomed, bystander = _child(method, 60), _child(method, 60)
    os.kill(doomed.pid, signal.SIGKILL)
    bystander.join(timeout=5)
    assert bystander.exitcode == -signal.SIGKILL
    assert watchdog.close() == Stop(
        False, f"a worker process (pid {doomed.pid})", "was killed by SIGKILL"
    )


@in_a_fresh_process
def test_ctrl_c_ends_the_children(watchdog):
    watchdog.start()
    child = _child("spawn", 60)
    os.kill(os.getpid(), signal.SIGINT)
    child.join(timeout=60)  # a bound, not a measure: the child would sleep 60 s
    assert child.exitcode == -signal.SIGKILL
    assert watchdog.close() == Stop(True)


def test_a_child_that_ends_well_is_no_death(watchdog):
    watchdog.start()
    child = _child("spawn", 0)
    child.join()
    time.sleep(0.3)  # several looks
    assert watchdog.close() is None


def test_children_started_while_watching_ignore_ctrl_c(watchdog):
    watchdog.start()
    child = _child("spawn", 60)
    time.sleep(1)  # started, and past Python's own start-up
    os.kill(child.pid, signal.SIGINT)
    child.join(timeout=1)
    assert child.is_alive()  # a spawned Python would have raised KeyboardInterrupt
    child.kill()
    child.join()


def test_children_from_before_the_run_are_not_the_runs(watchdog):
    # e.g. a notebook's own process, or a process still ending from an earlier run
    older = _child("spawn", 60)
    watchdog.start()
    time.sleep(0.3)  # the watchdog looks at every child
    older.kill()
    older.join(timeout=5)
    time.sleep(0.3)  # several looks
    assert watchdog.close() is None


def test_the_data_manager_is_the_runs_though_the_runner_started_it_before(watchdog):
    manager = multiprocessing.get_context("spawn").Process(
        target=_sleep, args=(60,), name="ParallelRunnerManager-1"
    )
    manager.start()
    watchdog.start()
    time.sleep(0.3)
    os.kill(manager.pid, signal.SIGKILL)
    manager.join(timeout=5)
    time.sleep(0.3)
    assert watchdog.close() == Stop(
        False, f"the data manager process (pid {manager.pid})", "was killed by SIGKILL"
    )


@in_a_fresh_process
def test_the_watchdog_restores_ctrl_c(watchdog):
    before = signal.getsignal(signal.SIGINT)
    watchdog.start()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert watchdog.close() is None
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


class TestInterrupt:
    """SequentialRunner runs the nodes in the main thread: Ctrl-C interrupts it there."""

    @in_a_fresh_process
    def test_ctrl_c_raises_in_the_main_thread_and_is_restored_after(self):
        before = signal.getsignal(signal.SIGINT)
        interrupt = Interrupt().start()
        with pytest.raises(RunStopped) as stopped:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
        assert stopped.value.stop == Stop(True)
        assert interrupt.close() == Stop(True)
        assert signal.getsignal(signal.SIGINT) is before

    def test_no_ctrl_c_no_stop(self):
        assert Interrupt().start().close() is None

    @in_a_fresh_process
    def test_not_inside_logging_but_right_after(self):
        # logging.Handler.emit would print the exception as a "Logging error" and swallow it.
        interrupt = Interrupt().start()

        class Slow(logging.Handler):
            def emit(self, record):
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while logging
                time.sleep(0.2)

        logger = logging.getLogger("test_supervision.slow")
        logger.addHandler(Slow())
        logger.propagate = False
        logger.warning("a log call")  # not interrupted
        started = time.monotonic()
        with pytest.raises(RunStopped):  # but right after it
            time.sleep(30)
        assert time.monotonic() - started < 5
        interrupt.close()
