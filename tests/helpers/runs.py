"""The suite's shared runs: one real run per kind, made once per session, read by every test
that asserts something about that kind of run (a plugin of tests/conftest.py).

Each is made the first time a test asks for it, in a copy of the project of its own.
A test that needs a run of its own says why in its docstring.
"""

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parallel_trees.models import MODELS
from parallel_trees.runners.handoff import shared_data_folder
from tests.helpers.console import IMPORT_TIMES
from tests.helpers.markers import starts_processes
from tests.helpers.network import Offline
from tests.helpers.processes import dead_pid
from tests.helpers.project import ProjectCopy, Run
from tests.helpers.tables import PENGUINS, penguins

# Enough trees that each training node takes a good fraction of a second, so
# that whether the models' nodes ran at the same time is plain from their timings.
SLOW = "n_estimators=100"
TRACKED = "tracking=true"
DASK = "--runner=parallel_trees.runners.DaskRunner"
# A few trials per search, and a progress line after every trial but the last,
# whatever the machine's speed; judged by log loss, lower is better.
TRIALS = 6
TUNED = f"tuning.trials={TRIALS},tuning.progress_every=0,metric=log_loss"


@dataclass
class Shared:
    """A shared run: the project copy it ran in, and what the command did."""

    project: ProjectCopy
    run: Run
    version: str = field(init=False)  # its versions' name (its MLflow run's, when tracked)

    def __post_init__(self):
        assert self.run.returncode == 0, self.run.output
        self.version = self.project.versions("data/08_reporting/metrics.json")[-1].name

    @property
    def metrics(self) -> dict:
        """Its metrics.json."""
        folder = self.project.root / "data/08_reporting/metrics.json" / self.version
        return json.loads((folder / "metrics.json").read_text())

    def saved(self, dataset: str) -> Path:
        """The file it saved for the versioned ``dataset`` (a path under data/)."""
        return self.project.root / dataset / self.version / Path(dataset).name


def _copy(tmp_path_factory, name: str) -> ProjectCopy:
    return ProjectCopy(tmp_path_factory.mktemp(name) / "parallel-trees")


@pytest.fixture(scope="session")
def offline(tmp_path_factory) -> Offline:
    """The network guard of the session's runs: nothing they do may leave the machine."""
    return Offline(tmp_path_factory.mktemp("offline"))


@pytest.fixture(scope="session")
@starts_processes
def iris_parallel(tmp_path_factory, offline) -> Shared:
    """The README's quick start, ``kedro run --runner=ParallelRunner``, in an 80-column
    terminal, every process of it refusing the network (``offline``)."""
    project = _copy(tmp_path_factory, "iris-parallel")
    env = offline.env(project.root / "src", COLUMNS="80")
    return Shared(project, project.kedro("run", "--runner=ParallelRunner", env=env))


@pytest.fixture(scope="session")
@starts_processes
def slow_runs(tmp_path_factory) -> dict:
    """The same run of slower nodes (``SLOW``) under ParallelRunner, its imports listed,
    then in process under SequentialRunner, in one project.

    Before them, the shared data a SIGKILLed ParallelRunner run left behind.
    """
    project = _copy(tmp_path_factory, "slow-runs")
    killed = shared_data_folder(dead_pid(), "0123456789ab")
    killed.mkdir()
    (killed / "X_train").write_bytes(b"left by a run killed with SIGKILL")
    # One worker per model, so that a project with more models still trains
    # random_forest and xgboost at the same time.
    parallel = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--runner-params",
        f"max_workers={len(MODELS)}",
        "--params",
        SLOW,
        env=IMPORT_TIMES,
    )
    parallel = Shared(project, parallel)
    first_bytes = parallel.saved("data/08_reporting/metrics.json").read_bytes()
    sequential = Shared(project, project.in_process("run", "--params", SLOW))
    swept = not killed.exists()
    shutil.rmtree(killed, ignore_errors=True)
    return {
        "project": project,
        "parallel": parallel,
        "sequential": sequential,
        "swept": swept,
        "first_bytes": first_bytes,
    }


@pytest.fixture(scope="session")
@starts_processes
def dask_local(tmp_path_factory) -> Shared:
    """``SLOW`` on the local cluster that DaskRunner starts by itself.

    Port 8787, Dask's default for a scheduler's HTTP server, is taken meanwhile,
    as by any other Dask cluster of the machine.
    """
    import contextlib  # noqa: PLC0415
    import socket  # noqa: PLC0415

    project = _copy(tmp_path_factory, "dask-local")
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # taken already: as good
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        return Shared(project, project.kedro("run", DASK, "--params", SLOW))


@pytest.fixture(scope="session")
@starts_processes
def tuned_runs(tmp_path_factory, offline) -> dict[str, Shared]:
    """The same tuned iris run (``TUNED``) under SequentialRunner (in process, untracked),
    ParallelRunner (its imports listed) and DaskRunner (a local cluster of two workers),
    these two tracked in the project's MLflow store, in one project."""
    project = _copy(tmp_path_factory, "tuned")
    runs = {"SequentialRunner": Shared(project, project.in_process("run", "--params", TUNED))}
    parallel = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        f"{TUNED},{TRACKED}",
        env=offline.env(project.root / "src", **IMPORT_TIMES),
    )
    runs["ParallelRunner"] = Shared(project, parallel)
    dask = project.kedro(
        "run",
        DASK,
        "--runner-params",
        "n_workers=2",
        "--params",
        f"{TUNED},{TRACKED}",
        env=offline.env(project.root / "src"),
    )
    runs["DaskRunner"] = Shared(project, dask)
    return runs


@pytest.fixture(scope="session")
@starts_processes
def own_table(tmp_path_factory, offline) -> Shared:
    """A table with text, gaps, an identifier, a constant and unlabelled rows
    (``penguins.csv``), trained on under ParallelRunner, tracked in the project's store."""
    project = _copy(tmp_path_factory, "own-table")
    penguins().to_csv(project.root / "penguins.csv", index_label="")
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        f"{PENGUINS},{TRACKED}",
        env=offline.env(project.root / "src"),
    )
    return Shared(project, run)


@pytest.fixture(scope="session")
@starts_processes
def diabetes_runs(tmp_path_factory, offline) -> dict[str, Shared]:
    """A regression (``dataset=diabetes``) under SequentialRunner (in process), ParallelRunner
    (tracked in the project's MLflow store) and DaskRunner (a local cluster of two workers),
    in one project."""
    project = _copy(tmp_path_factory, "diabetes")
    params = ("--params", "dataset=diabetes")
    runs = {"SequentialRunner": Shared(project, project.in_process("run", *params))}
    parallel = project.kedro(
        "run",
        "--runner=ParallelRunner",
        "--params",
        f"dataset=diabetes,{TRACKED}",
        env=offline.env(project.root / "src"),
    )
    runs["ParallelRunner"] = Shared(project, parallel)
    dask = project.kedro("run", DASK, "--runner-params", "n_workers=2", *params)
    runs["DaskRunner"] = Shared(project, dask)
    return runs


RESULTS = [
    "data/08_reporting/metrics.json",
    "data/07_model_output/test_predictions.csv",
    "data/06_models/random_forest.pkl",
    "data/06_models/xgboost.pkl",
    "data/06_models/xgboost.json",
]


class Kept:
    """A project with one good run: every failure in it must keep nothing of its own."""

    def __init__(self, project: ProjectCopy):
        self.project = project
        self.run = project.in_process("run")  # the good run
        assert self.run.returncode == 0, self.run.output
        self.previous = self.saved_versions()

    def saved_versions(self) -> dict[str, list[str]]:
        """The versions saved of each of the run's results, by dataset."""
        return {path: [v.name for v in self.project.versions(path)] for path in RESULTS}

    def assert_nothing_kept(self) -> None:
        """The good run's results are still the latest, loaded as Kedro loads them."""
        from kedro.io import Version  # noqa: PLC0415
        from kedro_datasets.json import JSONDataset  # noqa: PLC0415

        assert self.saved_versions() == self.previous
        path = self.project.root / "data/08_reporting/metrics.json"
        version = self.previous["data/08_reporting/metrics.json"][-1]
        latest = JSONDataset(filepath=str(path), version=Version(None, None)).load()
        assert latest == json.loads((path / version / "metrics.json").read_text())


@pytest.fixture(scope="session")
def kept(tmp_path_factory) -> Kept:
    """The project in which runs fail: one good run first, in process."""
    return Kept(_copy(tmp_path_factory, "kept"))
