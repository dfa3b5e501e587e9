import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node

from parallel_trees.hooks.run_context import RunContextHooks, run_context, runner_name


def _step(x):
    return x


def two_models() -> Pipeline:
    """Two training branches (namespaces) of two nodes each, and a join."""
    branch = Pipeline([node(_step, "x", "y", name="a"), node(_step, "y", "z", name="b")])
    branches = [Pipeline(branch, namespace=m, inputs="x", tags="training") for m in ("rf", "xgb")]
    return sum(branches, Pipeline([node(_step, "rf.z", "report", name="join")]))


@pytest.mark.parametrize(
    ("recorded", "name"),
    [
        ("<kedro.runner.parallel_runner.ParallelRunner object at 0x7f2d>", "ParallelRunner"),
        ("<kedro.runner.thread_runner.ThreadRunner object at 0x7f2d>", "ThreadRunner"),
        ("<parallel_trees.runners.DaskRunner object at 0x7f2d>", "DaskRunner"),
        ("None", "SequentialRunner"),  # the session's default
        ("SequentialRunner", "SequentialRunner"),
    ],
)
def test_runner_name_from_kedros_run_params(recorded, name):
    assert runner_name(recorded) == name


class TestRunContext:
    @pytest.mark.parametrize(
        ("runner", "cores", "at_once", "threads"),
        [
            ("ParallelRunner", 8, 2, 4),  # every model at once: an equal share
            ("ParallelRunner", 3, 2, 1),
            ("ParallelRunner", 1, 2, 1),  # never below one thread
            ("ThreadRunner", 8, 2, 4),
            ("SequentialRunner", 8, 1, 8),  # one model at a time: all cores
            ("DaskRunner", 8, 2, 1),  # a Dask task gets one thread of its worker
        ],
    )
    def test_threads_per_model_share_the_cores_among_models_training_at_once(
        self, runner, cores, at_once, threads
    ):
        assert run_context(runner, two_models(), cores) == {
            "runner": runner,
            "cores": cores,
            "models_at_once": at_once,
            "threads_per_model": threads,
        }

    def test_models_are_counted_by_the_training_namespaces_in_the_run(self):
        only_one = two_models().only_nodes_with_namespaces(["rf"])
        assert run_context("ParallelRunner", only_one, 8)["threads_per_model"] == 8
        no_training = Pipeline([node(_step, "x", "y", name="a")])
        assert run_context("ParallelRunner", no_training, 8)["models_at_once"] == 1


def test_the_hook_puts_run_context_in_the_catalog(caplog):
    catalog = DataCatalog()
    params = {"runner": "<kedro.runner.parallel_runner.ParallelRunner object at 0x1>"}
    with caplog.at_level("INFO", logger="parallel_trees"):
        RunContextHooks().before_pipeline_run(params, two_models(), catalog)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("parallel_trees")]
    context = catalog.load("run_context")
    assert context["runner"] == "ParallelRunner"
    assert context["models_at_once"] == 2
    assert messages == [
        f"ParallelRunner: {context['cores']} core(s), 2 model(s) training at once, "
        f"n_jobs auto = {context['threads_per_model']} thread(s) each"
    ]
