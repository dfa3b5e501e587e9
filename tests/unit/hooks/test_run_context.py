import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner

from parallel_trees.hooks.run_context import (
    RunContextHooks,
    run_context,
    runner_name,
    runner_workers,
)
from parallel_trees.models import MODELS
from parallel_trees.pipelines.training import create_pipeline
from parallel_trees.pipelines.training.pipeline import FOLD_NODES
from parallel_trees.resources import threads_per_model
from parallel_trees.runners import DaskRunner
from parallel_trees.runners import ParallelRunner as ProjectParallelRunner
from parallel_trees.tags import FIT


def _step(x):
    return x


def _join(a, b):
    return a, b


def two_models() -> Pipeline:
    """Two training branches (namespaces), each with two nodes that fit (tagged ``fit``)
    and a record joining them, and a join of the branches."""
    branch = Pipeline(
        [
            node(_step, "x", "scores", name="evaluate", tags=FIT),
            node(_step, "x", "model", name="fit", tags=FIT),
            node(_join, ["scores", "model"], "z", name="record"),
        ]
    )
    branches = [Pipeline(branch, namespace=m, inputs="x", tags="training") for m in ("rf", "xgb")]
    return sum(branches, Pipeline([node(_join, ["rf.z", "xgb.z"], "report", name="join")]))


class MyDaskRunner(DaskRunner):
    """A user's own subclass: recognised as a DaskRunner all the same."""


@pytest.mark.parametrize(
    ("runner", "name"),
    [
        (lambda: ParallelRunner(max_workers=2), "ParallelRunner"),
        (lambda: ProjectParallelRunner(max_workers=2), "ParallelRunner"),
        (ThreadRunner, "ThreadRunner"),
        (lambda: DaskRunner(n_workers=1), "DaskRunner"),
        (lambda: None, "SequentialRunner"),  # not seen: the session's default
    ],
)
def test_runner_name(runner, name):
    assert runner_name(runner()) == name


class TestRunContext:
    @pytest.mark.parametrize(
        ("runner", "cores", "workers", "at_once", "threads"),
        [
            ("ParallelRunner", 8, 8, 4, 2),  # every fit node at once: an equal share
            ("ParallelRunner", 3, 3, 3, 1),  # as many as the workers
            ("ParallelRunner", 1, 2, 2, 1),  # never below one thread
            ("ParallelRunner", 2, 1, 1, 2),  # max_workers=1: one at a time, all cores
            ("ThreadRunner", 8, 5, 4, 2),
            ("SequentialRunner", 8, 1, 1, 8),  # one node at a time: all cores
            ("DaskRunner", 8, 8, 4, 2),  # a local cluster of 8 workers
            ("DaskRunner", 8, 1, 1, 8),  # ... of one worker
            ("DaskRunner", 8, None, 4, 1),  # a running cluster, on other machines
        ],
    )
    def test_threads_per_model_share_the_cores_among_fit_nodes_running_at_once(
        self, runner, cores, workers, at_once, threads
    ):
        assert run_context(runner, two_models(), cores, workers) == {
            "runner": runner,
            "cores": cores,
            "fits_at_once": at_once,
            "threads_per_model": threads,
        }

    def test_only_the_fit_nodes_in_the_run_are_counted(self):
        only_one = two_models().only_nodes_with_namespaces(["rf"])
        assert run_context("ParallelRunner", only_one, 8, 8)["fits_at_once"] == 2
        assert run_context("ParallelRunner", only_one, 8, 8)["threads_per_model"] == 4
        no_training = Pipeline([node(_step, "x", "y", name="a")])
        assert run_context("ParallelRunner", no_training, 8, 8)["fits_at_once"] == 1

    def test_the_training_pipeline_has_six_fit_nodes_per_model(self):
        fits = len(MODELS) * (FOLD_NODES + 1)
        assert run_context("ParallelRunner", create_pipeline(), 64, 64)["fits_at_once"] == fits
        assert run_context("ParallelRunner", create_pipeline(), 2, 2)["threads_per_model"] == 1


class TestRunnerWorkers:
    @pytest.mark.parametrize(
        ("runner", "workers"),
        [
            (lambda: ParallelRunner(max_workers=1), 1),
            (lambda: ParallelRunner(max_workers=3), 3),
            (lambda: ThreadRunner(max_workers=2), 2),
            (SequentialRunner, 1),
            (lambda: DaskRunner(n_workers=3), 3),
            (lambda: DaskRunner(address="tcp://127.0.0.1:8786"), None),
            (lambda: MyDaskRunner(n_workers=3), 3),
            (lambda: ProjectParallelRunner(max_workers=2), 2),
        ],
    )
    def test_the_nodes_a_runner_runs_at_once_here(self, runner, workers):
        assert runner_workers(runner(), two_models()) == workers

    def test_no_runner_seen_is_not_known(self):
        assert runner_workers(None, two_models()) is None


def test_the_hook_puts_run_context_in_the_catalog(caplog, monkeypatch):
    catalog = DataCatalog()
    # Outside a KedroSession no runner is seen: the session's is given here.
    runner = ParallelRunner(max_workers=2)
    monkeypatch.setattr("parallel_trees.hooks.run_context.session_runner", lambda: runner)
    with caplog.at_level("INFO", logger="parallel_trees"):
        RunContextHooks().before_pipeline_run({}, two_models(), catalog)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("parallel_trees")]
    context = catalog.load("run_context")
    threads = threads_per_model(context["cores"], 2)
    assert context["runner"] == "ParallelRunner"
    assert context["fits_at_once"] == 2  # of 4: max_workers=2
    assert context["threads_per_model"] == threads
    assert messages == [
        f"ParallelRunner: {context['cores']} core(s), 2 training node(s) at once, "
        f"n_jobs auto = {threads} thread(s) each"
    ]
