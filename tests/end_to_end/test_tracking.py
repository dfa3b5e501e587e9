"""End-to-end: MLflow tracking through the real ``kedro`` CLI, under every runner.

Each run is read back only through mlflow's client (``MlflowClient``,
``search_logged_models``, ``pyfunc.load_model``, ``runs:/`` artifacts), from
the SQLite store a project makes by default and from a real ``mlflow server``
that the tests start on a loopback port. Every process of those runs, and the
server's, loads test_faults' network guard: no request leaves the machine.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from parallel_trees.tracking import HOST, PID
from tests.conftest import ProjectCopy, Run
from tests.test_dask_runner import assert_one_error_line, free_port
from tests.test_faults import (
    GUARD,
    saved_versions,
    signalled_run,
    wait_for_group_to_end,
)
from tests.test_own_data import CSV, penguins
from tests.test_run import TRAINING
from tests.test_tuning import IMPORT_TIMES, imported

# This process's own client is offline too, as tracking.MlflowRun makes every run's.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
import mlflow  # noqa: E402 - after the opt-out

TRACKED = "tracking=true"
DASK = "--runner=parallel_trees.runners.DaskRunner"
EXPERIMENT = "parallel-trees"
PARENT = "mlflow.parentRunId"
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
# The start method of the suite's runs (CI runs this file under each).
METHOD = os.environ.get("KEDRO_MP_CONTEXT", "fork")


class Store:
    """An MLflow tracking store, read through mlflow's client only."""

    def __init__(self, uri: str):
        self.uri = uri
        self.client = mlflow.MlflowClient(uri)

    def top_level(self) -> list:
        """The experiment's runs that are no other run's child: one per Kedro run."""
        return [run for run in self._runs() if PARENT not in run.data.tags]

    def named(self, name: str):
        """The top-level run named ``name``, the Kedro run's version; exactly one."""
        (run,) = [run for run in self.top_level() if run.info.run_name == name]
        return run

    def children(self, run_id: str) -> list:
        return [run for run in self._runs() if run.data.tags.get(PARENT) == run_id]

    def steps(self, run_id: str, key: str) -> list[float]:
        """A metric's values in step order."""
        history = self.client.get_metric_history(run_id, key)
        return [metric.value for metric in sorted(history, key=lambda metric: metric.step)]

    def artifacts(self, run_id: str, folder: str | None = None) -> set[str]:
        """Every artifact file of a run, by path."""
        found = set()
        for entry in self.client.list_artifacts(run_id, folder):
            found |= self.artifacts(run_id, entry.path) if entry.is_dir else {entry.path}
        return found

    def text(self, run_id: str, path: str) -> str:
        with fluent(self.uri):  # runs:/ URIs are resolved by mlflow's global client
            return mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")

    def models(self, run_id: str) -> dict:
        """The MLflow models a run logged in the run's experiment, loaded, by name."""
        with fluent(self.uri):
            found = mlflow.search_logged_models(
                experiment_ids=[self._experiment_id()],
                filter_string=f"source_run_id = '{run_id}'",
                output_format="list",
            )
            return {model.name: mlflow.pyfunc.load_model(model.model_uri) for model in found}

    def _experiment_id(self) -> str:
        return self.client.get_experiment_by_name(EXPERIMENT).experiment_id

    def _runs(self) -> list:
        if self.client.get_experiment_by_name(EXPERIMENT) is None:
            return []
        return self.client.search_runs([self._experiment_id()], max_results=1000)


@contextmanager
def fluent(uri: str) -> Iterator[None]:
    """mlflow's global client on ``uri`` meanwhile. mlflow.set_tracking_uri also exports
    MLFLOW_TRACKING_URI, to child processes: the next kedro run would track there."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("MLFLOW_")}
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)
        for name in [name for name in os.environ if name.startswith("MLFLOW_")]:
            del os.environ[name]
        os.environ.update(saved)


def default_store(project: ProjectCopy) -> Store:
    return Store(f"sqlite:///{project.root / 'mlflow.db'}")


@pytest.fixture(scope="module")
def guard(tmp_path_factory) -> Path:
    """A folder of test_faults' network guard (a sitecustomize.py) and its log."""
    folder = tmp_path_factory.mktemp("guard")
    (folder / "sitecustomize.py").write_text(GUARD)
    return folder


def guarded(project: ProjectCopy, guard: Path, **more: str) -> dict[str, str]:
    """The environment of a run whose every Python process refuses other hosts."""
    return {
        "PYTHONPATH": f"{guard}:{project.root / 'src'}",
        "NETWORK_LOG": str(guard / "network.log"),
    } | more


def assert_offline(guard: Path) -> None:
    log = guard / "network.log"
    assert not log.exists(), log.read_text()


def latest_version(project: ProjectCopy) -> str:
    return project.versions(METRICS)[-1].name


def raw_rows(metrics: dict, rows: list[int]) -> pd.DataFrame:
    """The held-out rows as the user's table holds them: every column but the label."""
    run = metrics["run"]
    if run["dataset"] == "csv":
        table = pd.read_csv(run["data_file"]["path"]).drop(columns=run["target_column"])
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
        for key in ("cv_mean", "cv_std", "test_accuracy"):
            assert run.data.metrics[f"{model}.{key}"] == record[key], (model, key)
        assert store.steps(run.info.run_id, f"{model}.cv_score") == record["cv_scores"]
    ranks = {entry["model"]: entry["rank"] for entry in metrics["ranking"]}
    assert {m: run.data.metrics[f"{m}.rank"] for m in TRAINING} == ranks
    assert tags["best_model"] == metrics["ranking"][0]["model"]

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
def sqlite_runs(module_project, guard):
    """A tracked run under each runner, into the project's own SQLite store: iris under
    SequentialRunner and DaskRunner, and a table with text and missing values under
    ParallelRunner."""
    penguins().to_csv(module_project.root / "penguins.csv", index_label="")
    env = guarded(module_project, guard)
    commands = {
        "SequentialRunner": ["--params", TRACKED],
        "ParallelRunner": ["--runner=ParallelRunner", "--params", f"{TRACKED},{CSV}"],
        "DaskRunner": [DASK, "--runner-params", "n_workers=2", "--params", TRACKED],
    }
    runs = {}
    for runner, options in commands.items():
        run = module_project.kedro("run", *options, env=env)
        assert run.returncode == 0, (runner, run.output)
        runs[runner] = (run, latest_version(module_project))
    return runs


class TestTheDefaultSqliteStore:
    @pytest.mark.parametrize("runner", ["SequentialRunner", "ParallelRunner", "DaskRunner"])
    def test_each_kedro_run_is_one_complete_mlflow_run_named_as_its_version(
        self, sqlite_runs, module_project, runner
    ):
        store = default_store(module_project)
        _, version = sqlite_runs[runner]
        assert_complete(store, module_project, store.named(version), runner)

    def test_one_top_level_run_per_kedro_run_and_no_other(self, sqlite_runs, module_project):
        names = sorted(run.info.run_name for run in default_store(module_project).top_level())
        assert names == sorted(version for _, version in sqlite_runs.values())

    def test_the_store_and_its_artifacts_are_in_the_project(self, sqlite_runs, module_project):
        assert (module_project.root / "mlflow.db").is_file()
        assert (module_project.root / "mlruns").is_dir()

    def test_the_run_says_where_it_is_tracked(self, sqlite_runs, module_project):
        run, _ = sqlite_runs["SequentialRunner"]
        uri = f"sqlite:///{module_project.root / 'mlflow.db'}"
        assert re.search(
            rf"^Tracking this run in MLflow: run \w+ of experiment '{EXPERIMENT}' at {uri}$",
            run.output,
            re.M,
        ), run.output

    def test_no_request_left_the_machine(self, sqlite_runs, guard):
        assert_offline(guard)


# The suite's own start method (KEDRO_MP_CONTEXT): make test runs it under fork, and
# make test-pythons under spawn and under forkserver, one Python each (.ci/test-pythons).
@pytest.mark.parametrize("method", [METHOD])
def test_a_parallel_run_is_one_complete_mlflow_run_under_this_start_method(tmp_path, guard, method):
    project = ProjectCopy(tmp_path / "parallel-trees")
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        TRACKED,
        env=guarded(project, guard, KEDRO_MP_CONTEXT=method),
    )
    assert run.returncode == 0, run.output
    store = default_store(project)
    (tracked,) = store.top_level()
    assert tracked.info.run_name == latest_version(project)
    assert_complete(store, project, tracked, "ParallelRunner")
    assert_offline(guard)


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
def server(tmp_path_factory, guard):
    """A real ``mlflow server`` on a free loopback port, its store and artifacts in a
    temporary folder; stopped by its process group's id at the end."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    env = os.environ | {
        "PYTHONPATH": str(guard),
        "NETWORK_LOG": str(guard / "network.log"),
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
def server_runs(server, tmp_path_factory, guard):
    """Runs pointed at the server: by the parameter (ParallelRunner), by the variable."""
    project = ProjectCopy(tmp_path_factory.mktemp("server-runs") / "parallel-trees")
    runs = {}
    by_parameter = f"{TRACKED},mlflow.tracking_uri={server}"
    for how, options, env in (
        ("parameter", ["--runner=ParallelRunner", "--params", by_parameter], {}),
        ("variable", ["--params", TRACKED], {"MLFLOW_TRACKING_URI": server}),
    ):
        run = project.kedro("run", *options, env=guarded(project, guard, **env))
        assert run.returncode == 0, (how, run.output)
        runs[how] = (run, latest_version(project))
    return project, runs


class TestATrackingServer:
    @pytest.mark.parametrize(
        ("how", "runner"), [("parameter", "ParallelRunner"), ("variable", "SequentialRunner")]
    )
    def test_a_run_pointed_at_it_is_one_complete_run_there_models_loaded_through_it(
        self, server, server_runs, how, runner
    ):
        project, runs = server_runs
        _, version = runs[how]
        store = Store(server)
        assert_complete(store, project, store.named(version), runner)

    def test_nothing_is_written_in_the_project(self, server_runs):
        project, _ = server_runs
        assert not (project.root / "mlflow.db").exists()
        assert not (project.root / "mlruns").exists()

    def test_the_store_holds_those_runs_only(self, server, server_runs):
        _, runs = server_runs
        names = sorted(run.info.run_name for run in Store(server).top_level())
        assert names == sorted(version for _, version in runs.values())

    def test_no_request_left_the_machine(self, server_runs, guard):
        assert_offline(guard)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, guard):
    """A tuned run (3 trials a search) under ParallelRunner, tracked."""
    project = ProjectCopy(tmp_path_factory.mktemp("tuned") / "parallel-trees")
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        f"{TRACKED},tuning.trials=3",
        env=guarded(project, guard),
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    return project, metrics


class TestATunedRun:
    def test_it_is_still_one_complete_top_level_run(self, tuned):
        project, _ = tuned
        store = default_store(project)
        (run,) = store.top_level()
        assert_complete(store, project, run, "ParallelRunner")

    def test_each_model_has_a_child_run_whose_children_are_its_trials(self, tuned):
        project, metrics = tuned
        store = default_store(project)
        (top,) = store.top_level()
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
            assert len(expected) == 3 * (len(record["folds"]) + 1)  # outer folds, then all rows
            trials = store.children(model_run.info.run_id)
            logged = sorted(
                repr(
                    (
                        trial.data.tags["search"],
                        _text(trial.data.params),
                        trial.data.tags["state"],
                        trial.data.metrics.get("inner_accuracy"),
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
def tracked_project(tmp_path_factory) -> ProjectCopy:
    """A project that tracks every run, as a user sets it for good (conf/local)."""
    project = ProjectCopy(tmp_path_factory.mktemp("tracked") / "parallel-trees")
    (project.root / "conf/local/parameters.yml").write_text("tracking: true\n")
    return project


@pytest.fixture(scope="module")
def previous(tracked_project) -> dict[str, list[str]]:
    """A good run, tracked: its files must stay the latest through every failure below."""
    run = tracked_project.kedro("run")
    assert run.returncode == 0, run.output
    assert "Tracking this run in MLflow" in run.output
    return saved_versions(tracked_project)


def the_new_run(project: ProjectCopy, before: list) -> object:
    """The one top-level MLflow run made since ``before``."""
    known = {run.info.run_id for run in before}
    (new,) = [r for r in default_store(project).top_level() if r.info.run_id not in known]
    return new


def assert_marked(project: ProjectCopy, before: list, status: str) -> None:
    """The failed run's MLflow run is ``status``, and its files under data/ are gone."""
    new = the_new_run(project, before)
    assert new.info.status == status
    assert VERSION.fullmatch(new.info.run_name)
    for path in saved_versions(project):
        assert not (project.root / path / new.info.run_name).exists(), path


class TestFailuresAreMarked:
    def test_a_model_rejecting_its_parameter_marks_the_run_failed(self, tracked_project, previous):
        before = default_store(tracked_project).top_level()
        run = tracked_project.kedro(
            "run", "--runner=ParallelRunner", "--params", "random_forest.max_features=bogus"
        )
        assert_one_error_line(run, "Error: Random Forest (random_forest) could not be trained")
        assert_marked(tracked_project, before, "FAILED")
        assert saved_versions(tracked_project) == previous

    def test_a_killed_worker_marks_the_run_failed(self, tracked_project, previous, tmp_path):
        before = default_store(tracked_project).top_level()
        run = signalled_run(
            tracked_project, tmp_path, METHOD, lambda _, pid: os.kill(pid, signal.SIGKILL)
        )
        assert run["code"] == 1, run["output"]
        assert "was killed by SIGKILL" in run["output"]
        assert run["left"] == []
        assert_marked(tracked_project, before, "FAILED")
        assert saved_versions(tracked_project) == previous

    def test_ctrl_c_marks_the_run_killed(self, tracked_project, previous, tmp_path):
        before = default_store(tracked_project).top_level()
        run = signalled_run(
            tracked_project, tmp_path, METHOD, lambda run, _: os.killpg(run.pid, signal.SIGINT)
        )
        assert run["code"] == 130, run["output"]
        assert "Error: Run interrupted (Ctrl-C); nothing of it was kept." in run["output"]
        assert run["left"] == []
        assert_marked(tracked_project, before, "KILLED")
        assert saved_versions(tracked_project) == previous

    def test_no_run_is_left_running(self, tracked_project, previous):
        statuses = {run.info.status for run in default_store(tracked_project).top_level()}
        assert "RUNNING" not in statuses


def test_a_run_killed_outright_is_closed_as_killed_by_the_next_run_of_the_machine(
    project, tmp_path
):
    # SIGKILL (the out-of-memory killer's, or kill -9) leaves no hook to close the run.
    (project.root / "conf/local/parameters.yml").write_text("tracking: true\n")
    store = default_store(project)
    killed = signalled_run(
        project, tmp_path, METHOD, lambda run, _: os.killpg(run.pid, signal.SIGKILL)
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

    run = project.kedro(
        "run", "--runner=ParallelRunner", "--params", f"mlflow.experiment={EXPERIMENT}"
    )

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


class TestAStoreThatCannotBeOpened:
    @pytest.mark.parametrize("where", ["closed port", "silent server", "sqlite under a file"])
    def test_one_error_line_naming_the_uri_and_the_setting_and_nothing_saved(
        self, tracked_project, previous, silent_port, where
    ):
        uri = {
            "closed port": f"http://127.0.0.1:{free_port()}",
            "silent server": f"http://127.0.0.1:{silent_port}",
            "sqlite under a file": f"sqlite:///{tracked_project.root / 'pyproject.toml'}/x.db",
        }[where]
        before = default_store(tracked_project).top_level()
        # mlflow's own retries would take minutes (tracking.OPENING): the timeout fails those.
        run = tracked_project.kedro(
            "run", "--runner=ParallelRunner", "--params", f"mlflow.tracking_uri={uri}", timeout=90
        )
        assert_one_error_line(run, f"Error: MLflow tracking: cannot open a run at {uri} (")
        assert "Check mlflow.tracking_uri (or MLFLOW_TRACKING_URI)" in run.output
        assert "Running node" not in run.output and "Retrying" not in run.output
        assert saved_versions(tracked_project) == previous
        assert len(default_store(tracked_project).top_level()) == len(before)


def test_tracking_off_imports_no_mlflow_and_makes_no_store(project):
    run: Run = project.kedro("run", "--runner=ParallelRunner", env=IMPORT_TIMES)
    assert run.returncode == 0, run.output
    assert imported(run.output, "xgboost")  # every process lists its imports
    assert not imported(run.output, "mlflow")
    assert not (project.root / "mlflow.db").exists() and not (project.root / "mlruns").exists()
