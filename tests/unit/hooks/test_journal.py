import os
import tempfile
from importlib.metadata import entry_points

from kedro.pipeline import node

from parallel_trees.hooks.journal import Journal, NodeJournalHooks


def _step(x):
    return x


def test_a_node_is_in_the_journal_from_its_start_to_its_end(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    hooks, step = NodeJournalHooks(), node(_step, "x", "y", name="step")
    journal = Journal("2026-11-29T06.13.39.123Z")
    assert journal.running() == {}
    hooks.before_node_run(step, "2026-11-29T06.13.39.123Z")
    assert journal.running() == {"step": os.getpid()}
    assert journal.folder.parent == tmp_path / "parallel-trees-running"
    hooks.after_node_run(step, "2026-11-29T06.13.39.123Z")
    assert journal.running() == {}


def test_a_node_that_raised_is_not_running(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    hooks, step = NodeJournalHooks(), node(_step, "x", "y", name="step")
    hooks.before_node_run(step, "run")
    hooks.on_node_error(step, "run")
    assert Journal("run").running() == {}


def test_runs_do_not_share_a_journal_and_remove_forgets_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = Journal("run-1"), Journal("run/2")  # any run id is a safe folder name
    first.start("a")
    second.start("b")
    assert (first.running(), second.running()) == ({"a": os.getpid()}, {"b": os.getpid()})
    first.remove()
    assert first.running() == {} and second.running() == {"b": os.getpid()}


def test_a_node_run_outside_a_session_has_no_journal(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    NodeJournalHooks().before_node_run(node(_step, "x", "y", name="step"), None)
    assert not (tmp_path / "parallel-trees-running").exists()


def test_the_journal_is_registered_for_every_worker_as_a_plugin_hook():
    (entry,) = [e for e in entry_points(group="kedro.hooks") if e.name.startswith("parallel")]
    assert isinstance(entry.load(), NodeJournalHooks)
