"""End-to-end: ``DaskRunner`` on real Dask clusters (loopback): the local cluster it starts,
a cluster of ``dask scheduler`` and ``dask worker`` processes, and one with mutual TLS."""

import operator
import os
import time

import pytest
from distributed import Client

from parallel_trees.pipelines.training.pipeline import FOLD_NODES
from parallel_trees.resources import available_cores
from parallel_trees.runners import DaskRunner
from tests.helpers.console import (
    OOB_PARAMS,
    OOB_WARNING,
    assert_one_error_line,
    assert_warned_in_one_line,
)
from tests.helpers.dask_cluster import RUNNER, dask_cluster, runner_params, worker_pids
from tests.helpers.network import free_port
from tests.helpers.runs import SLOW
from tests.helpers.spans import overlap_in_two_processes

TRAINING = ["random_forest", "xgboost"]
RESULTS = ("cv_scores", "cv_mean", "cv_std", "test_score", "test_panel", "hyperparameters")
# The report's parts, in the order it prints them.
REPORT = [
    "Accuracy on iris (",
    "model          CV accuracy (mean ± std over folds)  held out",
    "Random Forest Model Accuracy: ",
    "Every metric, held out",
    "Chosen: ",  # after the verdicts
    "Ranking by CV accuracy (",
]


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


def assert_the_report_once_in_order(output: str) -> None:
    """The terminal shows the report once, in order, and not Kedro's progress lines."""
    assert [output.count(part) for part in REPORT] == [1] * len(REPORT), output
    positions = [output.index(part) for part in REPORT]
    assert positions == sorted(positions), output
    assert "Completed node" not in output  # in info.log, as under Kedro's own runners


@pytest.fixture(scope="module")
def sequential(slow_runs) -> dict:
    """The metrics of the same run (``SLOW``) under SequentialRunner."""
    return slow_runs["sequential"].metrics


class TestLocalCluster:
    def test_it_succeeds_and_prints_the_report_once(self, dask_local):
        output = dask_local.run.output
        assert "Starting a local Dask cluster of" in output
        assert "is already in use" not in output  # no warning about port 8787
        # The workers print it here too: once, by kedro run, not twice.
        assert_the_report_once_in_order(output)

    @pytest.mark.processes
    def test_it_listens_on_the_loopback_interface_only(self):
        runner = DaskRunner(n_workers=1)
        with runner._client() as client:
            addresses = [client.scheduler.address, *client.scheduler_info()["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses

    def test_scores_are_the_sequential_runners(self, dask_local, sequential):
        # n_jobs: auto: the cores shared by the training nodes the local cluster's
        # workers (one per CPU) run at once.
        at_once = min(len(TRAINING) * (FOLD_NODES + 1), os.cpu_count())
        assert_same_scores(dask_local.metrics, sequential, max(1, available_cores() // at_once))

    def test_both_models_train_at_once_in_two_worker_processes(self, dask_local):
        rf, xgb = (dask_local.metrics["models"][m]["timing"] for m in TRAINING)
        assert overlap_in_two_processes(rf + xgb, rf + xgb)


@pytest.fixture(scope="module")
def cluster(module_project, tmp_path_factory):
    """A plain tcp cluster: a scheduler and two workers."""
    with dask_cluster(module_project, tmp_path_factory.mktemp("dask-logs")) as address:
        yield address


@pytest.fixture(scope="module")
def tls_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("dask-tls-logs")


@pytest.fixture(scope="module")
def tls_cluster(module_project, certificates, tls_logs):
    """A TLS cluster of the team's certificates: a scheduler and two workers."""
    with dask_cluster(module_project, tls_logs, "tls", certificates["team"]) as address:
        yield address


@pytest.mark.server
@pytest.mark.processes
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
        # The cluster's workers trained (which of them, Dask's scheduler decides).
        assert {s["pid"] for s in rf + xgb} <= worker_pids(cluster)
        assert overlap_in_two_processes(rf + xgb, rf + xgb)

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
        assert f"Running on the Dask cluster at {cluster}" in run.output
        # The worker's exception, in one line; Kedro's hint on resuming goes to info.log.
        assert_one_error_line(run, "The 'criterion' parameter of RandomForestClassifier must be")
        log = (module_project.root / "info.log").read_text()
        assert "You can resume the pipeline run" in log
        assert '--from-nodes "data_preparation.load_dataset"' in log
        assert len(module_project.metrics()) == saved
        with Client(cluster, timeout=60) as client:
            # The run's tasks are gone from the scheduler, its workers still serve.
            deadline = time.monotonic() + 60
            while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
                assert time.monotonic() < deadline, "the failed run's tasks stay on the cluster"
                time.sleep(0.2)
            assert len(client.scheduler_info()["workers"]) == 2
            assert client.submit(operator.add, 1, 2).result(timeout=60) == 3


@pytest.mark.server
class TestTLSCluster:
    """A cluster with mutual TLS: the scheduler and workers trust the team's CA only."""

    @pytest.mark.processes
    def test_a_run_with_the_client_certificate_prints_the_report_where_it_runs(
        self, module_project, tls_cluster, certificates, tls_logs, sequential
    ):
        run = module_project.kedro(
            "run", RUNNER, "--runner-params", runner_params(tls_cluster, certificates["team"]),
            "--params", SLOW,
        )  # fmt: skip
        assert run.returncode == 0, run.output
        assert f"Running on the Dask cluster at {tls_cluster}" in run.output
        assert_the_report_once_in_order(run.output)
        metrics = module_project.metrics()[-1]
        assert_same_scores(metrics, sequential, 1)  # workers elsewhere: one thread each
        rf, xgb = (metrics["models"][m]["timing"] for m in TRAINING)
        # The cluster's workers trained (which of them, Dask's scheduler decides).
        assert {s["pid"] for s in rf + xgb} <= worker_pids(tls_cluster, certificates["team"])
        # The workers ran the nodes; their own output keeps Dask's lines, not the report.
        for worker_log in ("1.log", "2.log"):
            assert "Ranking by CV accuracy" not in (tls_logs / worker_log).read_text()

    @pytest.mark.processes
    def test_the_certificate_can_come_from_dask_environment_variables_and_warnings_show(
        self, module_project, tls_cluster, certificates, tls_logs
    ):
        team = certificates["team"]
        env = {
            "DASK_SCHEDULER_ADDRESS": tls_cluster,
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(team / "ca.pem"),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(team / "client.pem"),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(team / "client-key.pem"),
            "COLUMNS": "80",  # whatever the terminal's width
        }
        # Three trees leave some rows without an out-of-bag score: scikit-learn warns, on
        # the worker that fits the forest.
        info_log = module_project.root / "info.log"
        before = len(info_log.read_text()) if info_log.exists() else 0
        run = module_project.kedro("run", RUNNER, "--params", OOB_PARAMS, env=env)
        assert run.returncode == 0, run.output
        assert f"Running on the Dask cluster at {tls_cluster}" in run.output
        # Printed by kedro run, as one line each time, before the results; the workers'
        # info.log (theirs is the project's too) has it, their own output does not.
        log = info_log.read_text()[before:]
        assert_warned_in_one_line(run.output, log)
        assert run.output.index(OOB_WARNING) < run.output.index("Ranking by CV accuracy")
        for worker_log in ("1.log", "2.log"):
            assert "OOB" not in (tls_logs / worker_log).read_text()

    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("no certificate", "is a TLS scheduler: it needs your certificate"),
            ("a stranger's certificate", "refused your certificate: it trusts only"),
            ("a stranger's CA", "has a certificate that tls_ca_file's CA did not sign"),
            ("tcp:// to the TLS scheduler", "closed the connection at once, as a TLS scheduler"),
        ],
    )
    def test_a_client_the_scheduler_cannot_trust_is_refused_in_one_line(
        self, module_project, tls_cluster, certificates, case, message
    ):
        team, stranger = certificates["team"], certificates["stranger"]
        location = tls_cluster.removeprefix("tls://")
        params = {
            "no certificate": runner_params(tls_cluster),
            "a stranger's certificate": runner_params(
                tls_cluster,
                team,
                tls_client_cert=str(stranger / "client.pem"),
                tls_client_key=str(stranger / "client-key.pem"),
            ),  # fmt: skip
            "a stranger's CA": runner_params(
                tls_cluster, team, tls_ca_file=str(stranger / "ca.pem")
            ),
            "tcp:// to the TLS scheduler": runner_params(f"tcp://{location}"),
        }[case]
        saved = len(module_project.metrics())
        # Refused by the main process before any node: in process.
        run = module_project.in_process("run", RUNNER, "--runner-params", params, refused=True)
        assert_one_error_line(run, message)
        assert len(module_project.metrics()) == saved

    def test_tls_to_a_plain_scheduler_is_refused_in_one_line(
        self, module_project, cluster, certificates
    ):
        location = cluster.removeprefix("tcp://")
        params = runner_params(f"tls://{location}", certificates["team"])
        run = module_project.in_process("run", RUNNER, "--runner-params", params, refused=True)
        assert_one_error_line(run, "does not use TLS: it answered in plain text")

    def test_an_address_nobody_listens_on_is_refused_in_one_line(
        self, module_project, certificates
    ):
        address = f"tls://127.0.0.1:{free_port()}"
        params = runner_params(address, certificates["team"], timeout="2")
        run = module_project.in_process("run", RUNNER, "--runner-params", params, refused=True)
        assert_one_error_line(run, f"Nothing listens at {address}: the connection is refused")

    def test_a_scheduler_without_workers_is_refused_in_one_line(
        self, module_project, certificates, tmp_path
    ):
        team = certificates["team"]
        with dask_cluster(module_project, tmp_path, "tls", team, workers=0) as address:
            params = runner_params(address, team, timeout="2")
            run = module_project.in_process("run", RUNNER, "--runner-params", params, refused=True)
        assert_one_error_line(run, f"The Dask scheduler at {address} has no workers")
