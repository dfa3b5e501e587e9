"""End-to-end: ``DaskRunner`` through the real ``kedro`` CLI, on real Dask clusters (loopback)."""

import contextlib
import operator
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from parallel_trees.resources import available_cores
from tests.test_run import SLOW, TRAINING, overlap

RUNNER = "--runner=parallel_trees.runners.DaskRunner"
RESULTS = ("cv_scores", "cv_mean", "cv_std", "test_accuracy", "hyperparameters")
DASK = Path(sys.executable).parent / "dask"


def assert_same_scores(run: dict, reference: dict, n_jobs: int) -> None:
    assert run["run"] == reference["run"]
    for model in TRAINING:
        for key in RESULTS:
            ours, theirs = run["models"][model][key], reference["models"][model][key]
            if key == "hyperparameters":  # n_jobs: auto differs by runner, by design
                ours, theirs = (
                    {k: v for k, v in h.items() if k != "n_jobs"} for h in (ours, theirs)
                )
            assert ours == theirs, (model, key)
        assert run["models"][model]["hyperparameters"]["n_jobs"] == n_jobs


@pytest.fixture(scope="module")
def sequential(module_project) -> dict:
    """The metrics of the same run under SequentialRunner."""
    run = module_project.kedro("run", "--params", SLOW)
    assert run.returncode == 0, run.output
    return module_project.metrics()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(module_project, tmp_path_factory):
    """A ``dask scheduler`` and two one-thread ``dask worker`` processes on 127.0.0.1.

    The workers run in the project copy, with its package on the path: what a
    real cluster shares with the machine that runs ``kedro run``. Every
    process is stopped by its id at the end, whatever the tests did.
    """
    logs = tmp_path_factory.mktemp("dask-logs")
    address = f"tcp://127.0.0.1:{free_port()}"
    commands = [
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1]],
        *[
            [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
             "--local-directory", str(logs / f"worker-{i}")]
            for i in (1, 2)
        ],
    ]  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(module_project.root / "src")}
    processes = []
    try:
        for i, command in enumerate(commands):
            with (logs / f"{i}.log").open("w") as log:
                processes.append(
                    subprocess.Popen(
                        [*command, "--no-dashboard"],
                        cwd=module_project.root,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # a worker's nanny has a child: stop the group
                    )
                )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def local_run(module_project, sequential):
    """A run on the local cluster that DaskRunner starts by itself, and its metrics.

    Port 8787, Dask's default for a scheduler's HTTP server, is taken meanwhile,
    as by any other Dask cluster of the machine.
    """
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # taken already: as good
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        run = module_project.kedro("run", RUNNER, "--params", SLOW)
    return run, module_project.metrics()[-1]


class TestLocalCluster:
    def test_it_succeeds_and_prints_the_results(self, local_run):
        run, _ = local_run
        assert run.returncode == 0, run.output
        assert "Starting a local Dask cluster of" in run.output
        assert "is already in use" not in run.output  # no warning about port 8787
        assert "Random Forest Model Accuracy: " in run.output

    def test_scores_are_the_sequential_runners(self, local_run, sequential):
        # n_jobs: auto: the cores shared by the models the local cluster's workers
        # (one per CPU) train at once.
        at_once = min(len(TRAINING), os.cpu_count())
        assert_same_scores(local_run[1], sequential, max(1, available_cores() // at_once))

    def test_both_models_train_at_once_in_two_worker_processes(self, local_run):
        rf, xgb = (local_run[1]["models"][m]["timing"] for m in TRAINING)
        assert rf["pid"] != xgb["pid"]
        assert overlap(rf, xgb) > 0


class TestExternalCluster:
    def test_a_run_by_environment_variable_trains_side_by_side_with_the_same_scores(
        self, module_project, cluster, sequential
    ):
        run = module_project.kedro(
            "run", RUNNER, "--params", SLOW, env={"DASK_SCHEDULER_ADDRESS": cluster}
        )
        assert run.returncode == 0, run.output
        assert f"Running on the Dask cluster at {cluster}" in run.output
        assert "Starting a local Dask cluster" not in run.output
        metrics = module_project.metrics()[-1]
        assert_same_scores(metrics, sequential, 1)  # workers elsewhere: one thread each
        rf, xgb = (metrics["models"][m]["timing"] for m in TRAINING)
        assert rf["pid"] != xgb["pid"]
        assert overlap(rf, xgb) > 0

    def test_a_failing_node_stops_the_run_and_leaves_the_cluster_usable(
        self, module_project, cluster
    ):
        saved = len(module_project.metrics())
        run = module_project.kedro(
            "run",
            RUNNER,
            "--runner-params",
            f"address={cluster}",
            "--params",
            "random_forest.criterion=bogus",
        )
        assert run.returncode == 1
        assert f"Running on the Dask cluster at {cluster}" in run.output
        # The worker's exception, and Kedro's hint on resuming.
        assert "The 'criterion' parameter of RandomForestClassifier must be" in run.output
        assert "You can resume the pipeline run" in run.output
        assert '--from-nodes "data_preparation.load_dataset"' in run.output
        assert len(module_project.metrics()) == saved
        with Client(cluster, timeout=60) as client:
            # The run's tasks are gone from the scheduler, its workers still serve.
            deadline = time.monotonic() + 60
            while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
                assert time.monotonic() < deadline, "the failed run's tasks stay on the cluster"
                time.sleep(0.2)
            assert len(client.scheduler_info()["workers"]) == 2
            assert client.submit(operator.add, 1, 2).result(timeout=60) == 3
