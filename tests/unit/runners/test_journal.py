import os
import tempfile

from parallel_trees.runners.journal import Journal


def test_runs_do_not_share_a_journal_and_remove_forgets_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = Journal("run-1").open(), Journal("run/2").open()  # any id: a safe name
    first.start("a")
    second.start("b")
    assert (first.running(), second.running()) == ({"a": os.getpid()}, {"b": os.getpid()})
    first.remove()
    assert first.running() == {} and second.running() == {"b": os.getpid()}


def test_a_journal_never_opened_keeps_nothing(tmp_path, monkeypatch):
    """A node of this run on another machine (a Dask cluster's), or after the run ended."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    Journal("run").start("a")
    assert Journal("run").running() == {}
    assert not (tmp_path / "parallel-trees-running").exists()
