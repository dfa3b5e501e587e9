"""End-to-end: MLflow tracking, under every runner.

Each run is read back only through mlflow's client (``MlflowClient``,
``search_logged_models``, ``pyfunc.load_model``, ``runs:/`` artifacts), from
the SQLite store a project makes by default and from a real ``mlflow server``
that the tests start on a loopback port. Every process of those runs, and the
server's, loads the network guard (``tests/helpers/network.py``): no request
leaves the machine.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from parallel_trees.mlflow_run import HOST, PID
from tests.helpers.console import assert_one_error_line
from tests.helpers.mlflow_store import EXPERIMENT, Store
from tests.helpers.network import free_port
from tests.helpers.processes import (
    METHOD,
    ctrl_c,
    kill_worker,
    signalled_run,
    wait_for_group_to_end,
)
from tests.helpers.project import ProjectCopy
from tests.helpers.runs import TRACKED, Kept, Shared

TRAINING = ["random_forest", "xgboost"]
METRICS = "data/08_reporting/metrics.json"
PREDICTIONS = "data/07_model_output/test_predictions.csv"
# The run's files logged as artifacts, by data folder (pickles are not: the models are
# logged as MLflow models).
REPORTING = {
    "08_reporting/metrics.json",
    "08_reporting/report.txt",
    "08_reporting/model_comparison.json",
    "08_reporting/run_timeline.json",
    "08_reporting/confusion_matrix.json",
    "08_reporting/feature_importance.json",
}
VERSION = re.compile(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z")
# The lines a tracked run prints that an untracked one does not (hooks/tracking.py's).
TRACKING_LINES = re.compile(r"^(Tracking this run in MLflow: |Logged (.* )?to MLflow)")


def raw_rows(metrics: dict, rows: list[int]) -> pd.DataFrame:
    """The held-out rows as the user's table holds them: every column but the label."""
    run = metrics["run"]
    if run["dataset"] == "raw_data":
        table = pd.read_csv(run["data_source"]["path"]).drop(columns=run["target_column"])
    else:
        table = load_iris(as_frame=True).data
    return table.iloc[rows]


def assert_complete(store: Store, project: ProjectCopy, run, runner: str) -> None:
    """A FINISHED run that holds what its Kedro run made: parameters, tags, scores,
    files, and both models, which predict the held-out rows as the run did."""
    version = run.info.run_name
    metrics = json.loads((project.root / METRICS / version / "metrics.json").read_text())
    assert run.info.status == "FINISHED"
    tags, params = run.data.tags, run.data.params
    assert (tags["runner"], tags["dataset"], tags["kedro_env"]) == (
        runner,
        metrics["run"]["dataset"],
        "local",
    )
    assert tags["pipeline"] == "__default__"
    assert params["tracking"] == "True"
    assert params["cv_folds"] == str(metrics["run"]["cv_folds"])
    for model in TRAINING:
        record = metrics["models"][model]
        assert params[f"{model}.n_estimators"] == str(record["hyperparameters"]["n_estimators"])
        for key in ("cv_mean", "cv_std", "test_score"):
            assert run.data.metrics[f"{model}.{key}"] == record[key], (model, key)
        for metric, value in record["test_panel"].items():
            assert run.data.metrics[f"{model}.test.{metric}"] == value, (model, metric)
        assert store.steps(run.info.run_id, f"{model}.cv_score") == record["cv_scores"]
    ranks = {entry["model"]: entry["rank"] for entry in metrics["ranking"]}
    assert {m: run.data.metrics[f"{m}.rank"] for m in [*TRAINING, "baseline"]} == ranks
    assert run.data.metrics["baseline.cv_mean"] == metrics["baseline"]["cv_mean"]
    assert tags["best_model"] == metrics["best"]
    assert tags["metric"] == metrics["run"]["yardstick"]["metric"]

    artifacts = store.artifacts(run.info.run_id)
    assert REPORTING | {"07_model_output/test_predictions.csv"} <= artifacts
    assert not [path for path in artifacts if path.endswith(".pkl")]
    assert json.loads(store.text(run.info.run_id, "08_reporting/metrics.json")) == metrics

    # Raw rows in, as the user's file has them; the models predict class codes, whose
    # names each model carries in its metadata.
    held_out = pd.read_csv(
        project.root / PREDICTIONS / version / "test_predictions.csv", dtype={"row": int}
    )
    rows = raw_rows(metrics, held_out["row"].tolist())
    models = store.models(run.info.run_id)
    assert sorted(models) == sorted(TRAINING)
    for name, model in models.items():
        classes = model.metadata.metadata["classes"]
        assert classes == [str(c) for c in metrics["run"]["classes"]]
        predicted = [classes[code] for code in model.predict(rows)]
        assert predicted == held_out[name].astype(str).tolist(), name


@pytest.fixture(scope="module")
def tracked_sequential(tmp_path_factory, offline) -> Shared:
    """A tracked iris run under SequentialRunner, in process, into the project's own store.
    (Under ParallelRunner: the shared ``own_table``; under DaskRunner: ``tuned_runs``'.)"""
    project = ProjectCopy(tmp_path_factory.mktemp("tracked-sequential") / "parallel-trees")
    with offline.in_this_process():
        return Shared(project, project.in_process("run", "--params", TRACKED))


class TestTheDefaultSqliteStore:
    def test_a_sequential_run_is_one_complete_mlflow_run_named_as_its_version(
        self, tracked_sequential
    ):
        store = Store.of(tracked_sequential.project)
        (tracked,) = store.top_level()
        assert tracked.info.run_name == tracked_sequential.version
        assert_complete(store, tracked_sequential.project, tracked, "SequentialRunner")

    def test_a_parallel_run_is_one_complete_mlflow_run_under_this_start_method(self, own_table):
        # The suite's own start method (KEDRO_MP_CONTEXT): make test runs it under fork,
        # and CI's other Pythons under spawn and under forkserver (.ci/test-pythons).
        store = Store.of(own_table.project)
        (tracked,) = store.top_level()
        assert tracked.info.run_name == own_table.version
        assert_complete(store, own_table.project, tracked, "ParallelRunner")

    def test_a_dask_run_is_one_complete_mlflow_run(self, tuned_runs):
        shared = tuned_runs["DaskRunner"]
        store = Store.of(shared.project)
        assert_complete(store, shared.project, store.named(shared.version), "DaskRunner")

    def test_one_top_level_run_per_tracked_kedro_run_and_none_for_another(self, tuned_runs):
        # The project's three runs: Sequential's untracked, Parallel's and Dask's tracked.
        project = tuned_runs["SequentialRunner"].project
        names = sorted(run.info.run_name for run in Store.of(project).top_level())
        assert names == sorted(tuned_runs[r].version for r in ("ParallelRunner", "DaskRunner"))
        assert len(project.versions(METRICS)) == 3

    def test_the_store_and_its_artifacts_are_in_the_project(self, tracked_sequential):
        root = tracked_sequential.project.root
        assert (root / "mlflow.db").is_file()
        assert (root / "mlruns").is_dir()

    def test_the_run_says_where_it_is_tracked(self, tracked_sequential):
        uri = f"sqlite:///{tracked_sequential.project.root / 'mlflow.db'}"
        assert re.search(
            rf"^Tracking this run in MLflow: run \w+ of experiment '{EXPERIMENT}' at {uri}$",
            tracked_sequential.run.output,
            re.M,
        ), tracked_sequential.run.output

    def test_the_run_prints_an_untracked_run_s_lines_and_its_own_few(
        self, tracked_sequential, kept
    ):
        # kept's good run: the same iris run, untracked, in process too. (pytest keeps the
        # warnings of its own process: see the next test for mlflow's.)
        def lines(output: str) -> list[str]:
            return [
                re.sub(r"[\d.]+ s of CPU", "... s of CPU", line) for line in output.splitlines()
            ]

        tracked = lines(tracked_sequential.run.output)
        own = [line for line in tracked if TRACKING_LINES.match(line)]
        assert len(own) == len(TRAINING) + 2, tracked  # where, each model, the run logged
        assert [line for line in tracked if line not in own] == lines(kept.run.output)

    def test_mlflow_s_warnings_go_to_info_log_not_to_the_console(self, own_table):
        # A tracked run as typed (ParallelRunner), on a table with whole-number columns:
        # mlflow 3.17 hints about those as it infers a model's signature, in kedro run.
        output = own_table.run.output
        log = (own_table.project.root / "info.log").read_text()
        assert not re.search(r"^mlflow: ", output, re.M), output
        assert "Warning" not in output, output
        for said in re.findall(r" - py\.warnings\.mlflow - WARNING - (.*)$", log, re.M):
            assert said not in output

    def test_no_request_left_the_machine(self, tracked_sequential, own_table, tuned_runs, offline):
        offline.assert_no_request_left()


def wait_until_it_answers(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the tracking server never answered: {log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory, offline):
    """A real ``mlflow server`` on a free loopback port, its store and artifacts in a
    temporary folder; stopped by its process group's id at the end."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    env = os.environ | {
        "PYTHONPATH": str(offline.folder),
        "NETWORK_LOG": str(offline.log),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # Its background job runner (huey consumers): not needed to track runs.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    log = folder / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
             "--artifacts-destination", str(folder / "artifacts")],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # uvicorn's worker is a child: stop the group
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_it_answers(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        left = wait_for_group_to_end(process.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == [], log.read_text()


@pytest.fixture(scope="module")
def server_runs(server, tmp_path_factory, offline):
    """Runs pointed at the server, in process: by the parameter, by the variable. (Tracking
    is the main process's whatever the runner: ``own_table`` and ``tuned_runs`` are tracked
    under ParallelRunner.)"""
    project = ProjectCopy(tmp_path_factory.mktemp("server-runs") / "parallel-trees")
    runs = {}
    for how, params, env in (
        ("parameter", f"{TRACKED},mlflow.tracking_uri={server}", {}),
        ("variable", TRACKED, {"MLFLOW_TRACKING_URI": server}),
    ):
        with offline.in_this_process():
            run = project.in_process("run", "--params", params, env=env)
        assert run.returncode == 0, (how, run.output)
        runs[how] = project.versions(METRICS)[-1].name
    return project, runs


@pytest.mark.server
class TestATrackingServer:
    @pytest.mark.parametrize("how", ["parameter", "variable"])
    def test_a_run_pointed_at_it_is_one_complete_run_there_models_loaded_through_it(
        self, server, server_runs, how
    ):
        project, runs = server_runs
        store = Store(server)
        assert_complete(store, project, store.named(runs[how]), "SequentialRunner")

    def test_nothing_is_written_in_the_project(self, server_runs):
        project, _ = server_runs
        assert not (project.root / "mlflow.db").exists()
        assert not (project.root / "mlruns").exists()

    def test_the_store_holds_those_runs_only(self, server, server_runs):
        _, runs = server_runs
        names = sorted(run.info.run_name for run in Store(server).top_level())
        assert names == sorted(runs.values())

    def test_no_request_left_the_machine(self, server_runs, offline):
        offline.assert_no_request_left()


class TestATunedRun:
    """The shared tuned ParallelRunner run, tracked."""

    def test_it_is_still_one_complete_top_level_run(self, tuned_runs):
        shared = tuned_runs["ParallelRunner"]
        store = Store.of(shared.project)
        assert_complete(store, shared.project, store.named(shared.version), "ParallelRunner")

    def test_each_model_has_a_child_run_whose_children_are_its_trials(self, tuned_runs):
        shared = tuned_runs["ParallelRunner"]
        metrics = shared.metrics
        store = Store.of(shared.project)
        top = store.named(shared.version)
        models = store.children(top.info.run_id)
        assert sorted(run.info.run_name for run in models) == sorted(TRAINING)
        for model_run in models:
            name = model_run.info.run_name
            record = metrics["models"][name]
            assert model_run.info.status == "FINISHED"
            assert model_run.data.tags["model"] == name
            expected = sorted(
                repr((label, _text(trial["params"]), trial["state"], trial["score"]))
                for label, trial in _trials(record)
            )
            trials_per_search = metrics["run"]["tuning"]["trials"]
            # Its outer folds' searches, then the one on all rows.
            assert len(expected) == trials_per_search * (len(record["folds"]) + 1)
            trials = store.children(model_run.info.run_id)
            logged = sorted(
                repr(
                    (
                        trial.data.tags["search"],
                        _text(trial.data.params),
                        trial.data.tags["state"],
                        trial.data.metrics.get("inner_log_loss"),
                    )
                )
                for trial in trials
            )
            assert logged == expected
            assert {trial.info.status for trial in trials} == {"FINISHED"}
            assert {trial.data.tags["model"] for trial in trials} == {name}


def _trials(record: dict):
    for fold in record["folds"]:
        for trial in fold["trials"]:
            yield f"outer fold {fold['fold'] + 1}", trial
    for trial in record["search"]["trials"]:
        yield "all training rows", trial


def _text(params: dict) -> dict[str, str]:
    """Parameters as MLflow keeps them: text."""
    return {key: str(value) for key, value in sorted(params.items())}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> Kept:
    """A project that tracks every run, as a user sets it for good (conf/local), and its
    good run (in process): its files must stay the latest through every failure below."""
    project = ProjectCopy(tmp_path_factory.mktemp("tracked") / "parallel-trees")
    (project.root / "conf/local/parameters.yml").write_text("tracking: true\n")
    return Kept(project)


def the_new_run(project: ProjectCopy, before: list) -> object:
    """The one top-level MLflow run made since ``before``."""
    known = {run.info.run_id for run in before}
    (new,) = [r for r in Store.of(project).top_level() if r.info.run_id not in known]
    return new


def assert_marked(tracked: Kept, before: list, status: str) -> None:
    """The failed run's MLflow run is ``status``, and its files under data/ are gone."""
    new = the_new_run(tracked.project, before)
    assert new.info.status == status
    assert VERSION.fullmatch(new.info.run_name)
    for path in tracked.saved_versions():
        assert not (tracked.project.root / path / new.info.run_name).exists(), path
    tracked.assert_nothing_kept()


class TestFailuresAreMarked:
    def test_a_model_rejecting_its_parameter_marks_the_run_failed(self, tracked):
        before = Store.of(tracked.project).top_level()
        run = tracked.project.in_process("run", "--params", "random_forest.max_features=bogus")
        assert_one_error_line(run, "Error: Random Forest (random_forest) could not be trained")
        assert_marked(tracked, before, "FAILED")

    @pytest.mark.processes
    def test_a_killed_worker_marks_the_run_failed(self, tracked, tmp_path):
        before = Store.of(tracked.project).top_level()
        run = signalled_run(tracked.project, tmp_path, kill_worker, METHOD)
        assert run["code"] == 1, run["output"]
        assert "was killed by SIGKILL" in run["output"]
        assert run["left"] == []
        assert_marked(tracked, before, "FAILED")

    @pytest.mark.processes
    def test_ctrl_c_marks_the_run_killed(self, tracked, tmp_path):
        before = Store.of(tracked.project).top_level()
        run = signalled_run(tracked.project, tmp_path, ctrl_c, METHOD)
        assert run["code"] == 130, run["output"]
        assert "Error: Run interrupted (Ctrl-C); nothing of it was kept." in run["output"]
        assert run["left"] == []
        assert_marked(tracked, before, "KILLED")

    def test_no_run_is_left_running(self, tracked):
        statuses = {run.info.status for run in Store.of(tracked.project).top_level()}
        assert "RUNNING" not in statuses


@pytest.mark.processes
def test_a_run_killed_outright_is_closed_as_killed_by_the_next_run_of_the_machine(
    project, tmp_path
):
    """Runs of its own: a killed one leaves an MLflow run that the next one must close."""
    # SIGKILL (the out-of-memory killer's, or kill -9) leaves no hook to close the run.
    (project.root / "conf/local/parameters.yml").write_text("tracking: true\n")
    store = Store.of(project)
    killed = signalled_run(
        project, tmp_path, lambda run, _: os.killpg(run.pid, signal.SIGKILL), METHOD
    )
    assert killed["code"] == -signal.SIGKILL and killed["left"] == []
    (orphan,) = store.top_level()
    assert orphan.info.status == "RUNNING"
    # Runs it must leave alone: one of a live process here (a run going on beside
    # it), and one of a process id that may be dead here but lived on another machine.
    experiment = orphan.info.experiment_id
    live = {HOST: socket.gethostname(), PID: str(os.getpid())}
    elsewhere = {HOST: "another-machine", PID: orphan.data.tags[PID]}
    others = [
        store.client.create_run(experiment, tags=tags).info.run_id for tags in (live, elsewhere)
    ]

    run = project.in_process("run", "--params", f"mlflow.experiment={EXPERIMENT}")

    assert run.returncode == 0, run.output
    assert (
        f"Marked KILLED in MLflow: {orphan.info.run_id}, left RUNNING by a kedro run of this "
        "machine that was killed before it could close them." in run.output
    )
    status = {r.info.run_id: r.info.status for r in store.client.search_runs([experiment])}
    assert status.pop(orphan.info.run_id) == "KILLED"
    assert [status.pop(other) for other in others] == ["RUNNING", "RUNNING"]
    assert list(status.values()) == ["FINISHED"]  # the new run
    assert store.client.get_run(orphan.info.run_id).info.end_time is not None


@pytest.fixture
def silent_port():
    """A loopback port that takes connections and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        yield silent.getsockname()[1]


@pytest.mark.parametrize("where", ["closed port", "silent server", "sqlite under a file"])
def test_a_store_that_cannot_be_opened_gets_one_error_line_and_nothing_saved(
    tracked, silent_port, where
):
    uri = {
        "closed port": f"http://127.0.0.1:{free_port()}",
        "silent server": f"http://127.0.0.1:{silent_port}",
        "sqlite under a file": f"sqlite:///{tracked.project.root / 'pyproject.toml'}/x.db",
    }[where]
    before = Store.of(tracked.project).top_level()
    ctrl_c = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, [])
    # Refused before any node, by the main process: in process. mlflow's own retries
    # would take minutes (tracking.OPENING): the run is refused within seconds.
    started = time.monotonic()
    run = tracked.project.in_process(
        "run", "--runner=ParallelRunner", "--params", f"mlflow.tracking_uri={uri}", refused=True
    )
    assert time.monotonic() - started < 60
    assert_one_error_line(run, f"Error: MLflow tracking: cannot open a run at {uri} (")
    assert "Check mlflow.tracking_uri (or MLFLOW_TRACKING_URI)" in run.output
    assert "Running node" not in run.output and "Retrying" not in run.output
    tracked.assert_nothing_kept()
    assert len(Store.of(tracked.project).top_level()) == len(before)
    # Nothing of the run was started: no watchdog, Ctrl-C as it was (a notebook's
    # session goes on), no journal of running nodes.
    assert "run-watchdog" not in {thread.name for thread in threading.enumerate()}
    assert (signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, [])) == (
        ctrl_c
    )
