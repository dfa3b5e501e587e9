import os
import subprocess
import sys
import tempfile
from importlib.metadata import entry_points

from kedro.pipeline import node

from parallel_trees import settings
from parallel_trees.hooks.journal import NodeJournalHooks
from parallel_trees.runners.journal import Journal
from tests.helpers.project import other_project


def _step(x):
    return x


def test_a_node_is_in_the_journal_from_its_start_to_its_end(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    hooks, step = NodeJournalHooks(), node(_step, "x", "y", name="step")
    journal = Journal("2026-11-29T06.13.39.123Z")
    hooks.before_node_run(step, "2026-11-29T06.13.39.123Z")
    assert journal.running() == {}  # not opened by the run guard: not this machine's run
    journal.open()
    hooks.before_node_run(step, "2026-11-29T06.13.39.123Z")
    assert journal.running() == {"step": os.getpid()}
    assert journal.folder.parent == tmp_path / "parallel-trees-running"
    hooks.after_node_run(step, "2026-11-29T06.13.39.123Z")
    assert journal.running() == {}


def test_a_node_that_raised_is_not_running(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    hooks, step = NodeJournalHooks(), node(_step, "x", "y", name="step")
    Journal("run").open()
    hooks.before_node_run(step, "run")
    assert Journal("run").running() == {"step": os.getpid()}
    hooks.on_node_error(step, "run")
    assert Journal("run").running() == {}


def test_a_node_run_outside_a_session_has_no_journal(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    NodeJournalHooks().before_node_run(node(_step, "x", "y", name="step"), None)
    assert not (tmp_path / "parallel-trees-running").exists()


def test_the_journal_is_this_projects_hook_not_a_plugin_of_every_project():
    assert sum(isinstance(hook, NodeJournalHooks) for hook in settings.HOOKS) == 1
    assert not [e for e in entry_points(group="kedro.hooks") if "parallel_trees" in e.value]


RUN_AND_SAY_WHAT_WAS_IMPORTED = """
import sys
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(Path.cwd())
with KedroSession.create(Path.cwd()) as session:
    session.run()
print(sorted({m.partition(".")[0] for m in sys.modules if m.startswith("parallel_trees")}))
"""


def test_another_kedro_project_beside_this_one_never_loads_it(tmp_path):
    """Installed in the same environment, this project is not a plugin of the other."""
    other_project(tmp_path / "other")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary), "KEDRO_DISABLE_TELEMETRY": "1"}
    ran = subprocess.run(
        [sys.executable, "-c", RUN_AND_SAY_WHAT_WAS_IMPORTED],
        cwd=tmp_path / "other",
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "[]"
    assert not (temporary / "parallel-trees-running").exists()
