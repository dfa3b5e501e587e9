"""The watchdog, for real: real child processes, real signals, in this process's main thread."""

import multiprocessing
import os
import signal
import time

import pytest

from parallel_trees.hooks.supervision import RunStopped, Stop, Watchdog

START_METHODS = ["fork", "spawn", "forkserver"]


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@pytest.fixture
def watchdog():
    dog = Watchdog(children=True, interval=0.05)
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


def test_ctrl_c_ends_the_children(watchdog):
    watchdog.start()
    child = _child("spawn", 60)
    os.kill(os.getpid(), signal.SIGINT)
    child.join(timeout=5)
    assert child.exitcode == -signal.SIGKILL
    assert watchdog.close() == Stop(True)


def test_a_child_that_ends_well_is_no_death(watchdog):
    watchdog.start()
    child = _child("spawn", 0)
    child.join()
    time.sleep(0.3)  # several looks
    assert watchdog.close() is None


def test_without_children_ctrl_c_stops_the_main_thread_and_is_restored_after():
    # SequentialRunner runs the nodes in the main thread: it is interrupted there.
    before = signal.getsignal(signal.SIGINT)
    watchdog = Watchdog(children=False, interval=0.05).start()
    with pytest.raises(RunStopped) as stopped:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
    assert stopped.value.stop == Stop(True)
    assert watchdog.close() == Stop(True)
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_children_started_while_watching_ignore_ctrl_c(watchdog):
    watchdog.start()
    child = _child("spawn", 60)
    time.sleep(1)  # started, and past Python's own start-up
    os.kill(child.pid, signal.SIGINT)
    child.join(timeout=1)
    assert child.is_alive()  # a spawned Python would have raised KeyboardInterrupt
    child.kill()


def test_children_are_not_watched_when_they_are_not_the_runs(watchdog):
    dog = Watchdog(children=False, interval=0.05).start()
    child = _child("fork", 60)
    child.kill()
    child.join()
    time.sleep(0.3)
    assert dog.close() is None
