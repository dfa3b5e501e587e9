"""Shared fixtures: small real data, and a throwaway copy of the project to run.

The suite is hermetic: it never reads the user's ``conf/local``, ``data/`` or
environment variables (``tests/test_hermetic.py`` checks it).
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

# No module of the project or of Kedro is imported at the top of this file
# (hence the PLC0415s): Kedro reads some of its variables (KEDRO_LOGGING_CONFIG)
# when it is imported, and pytest_configure removes them first.

PROJECT = Path(__file__).resolve().parents[1]
COPIED = ["conf", "src", "pyproject.toml", ".telemetry"]
_removed: dict[str, str] = {}
START_METHOD = "KEDRO_MP_CONTEXT"


def user_variables(environ: Mapping[str, str]) -> list[str]:
    """The environment variables of ``environ`` that would change what a test checks.

    Kedro's (KEDRO_ENV, KEDRO_LOGGING_CONFIG...), Dask's (a developer's
    DASK_SCHEDULER_ADDRESS would take DaskRunner's runs), MLflow's (their
    MLFLOW_TRACKING_URI would take the tracked runs' MLflow runs), and the telemetry
    opt-outs: the project's own opt-out is the committed .telemetry file, and
    the tests check that it alone does the job. KEDRO_MP_CONTEXT stays: it
    changes how workers start, not what a test checks, and the whole suite
    passes under each start method (``KEDRO_MP_CONTEXT=spawn make test``; CI
    runs the tests that start workers under each).
    """
    return [
        name
        for name in environ
        if name.startswith(("KEDRO_", "DASK_", "MLFLOW_"))
        and name != START_METHOD
        or name == "DO_NOT_TRACK"
    ]


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported, remove the user's variables: a test that
    needs one sets it itself (``ProjectCopy.kedro(..., env=...)``, ``monkeypatch``)."""
    for name in user_variables(os.environ):
        _removed[name] = os.environ.pop(name)


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ.update(_removed)


@pytest.fixture(scope="session")
def project_root(tmp_path_factory) -> Path:
    """The project as committed: a copy, without the user's conf/local."""
    return ProjectCopy(tmp_path_factory.mktemp("root") / "parallel-trees").root


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    from parallel_trees.pipelines.data_preparation.nodes import load_dataset  # noqa: PLC0415

    features, target, *_ = load_dataset("iris", {}, 21, "target", None)
    return features, target


@pytest.fixture(scope="session")
def iris_split(iris):
    """X_train, X_test, y_train, y_test of the default run."""
    from parallel_trees.pipelines.data_preparation.nodes import split_data  # noqa: PLC0415

    return split_data(*iris, test_size=0.2, random_state=21)


@pytest.fixture(scope="session")
def iris_folds(iris_split):
    from parallel_trees.pipelines.data_preparation.nodes import make_cv_splits  # noqa: PLC0415

    return make_cv_splits(iris_split[2], [0, 1, 2], cv_folds=5, cv_shuffle=True, random_state=21)


@dataclass
class Run:
    """What one ``kedro`` command did."""

    returncode: int
    output: str  # stdout and stderr, interleaved as a user sees them
    pid: int  # of its main process


class ProjectCopy:
    """A copy of this project in a temporary folder, run through the real CLI."""

    def __init__(self, root: Path):
        self.root = root
        for name in COPIED:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=_not_copied)
            else:
                shutil.copy2(source, root / name)
        (root / "conf" / "local").mkdir()  # empty: the user's own settings stay out
        for layer in (PROJECT / "data").iterdir():  # the empty data layers, not their files
            if layer.is_dir():
                (root / "data" / layer.name).mkdir(parents=True, exist_ok=True)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a command in the copy: its ``src`` first on the path."""
        env = os.environ | {"PYTHONPATH": str(self.root / "src"), "COLUMNS": "200"}
        return env | (extra or {})

    def kedro(self, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> Run:
        """``kedro ARGS`` in the copy (``env``: variables to add or override)."""
        # subprocess.run, but the pid is kept: it names the run's shared data (shared_data_folders).
        with subprocess.Popen(
            [sys.executable, "-m", "kedro", *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
        return Run(process.returncode, output, process.pid)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """``kedro ARGS`` in the background, in a process group of its own."""
        return subprocess.Popen(
            [sys.executable, "-m", "kedro", *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def versions(self, relative: str) -> list[Path]:
        """The saved versions of a versioned dataset, oldest first."""
        folder = self.root / relative
        return sorted(folder.iterdir()) if folder.exists() else []

    def metrics(self) -> list[dict]:
        """Every saved metrics.json, oldest first."""
        return [
            json.loads((v / "metrics.json").read_text())
            for v in self.versions("data/08_reporting/metrics.json")
        ]


def dead_pid() -> int:
    """The pid of a process that has ended (as a SIGKILLed `kedro run`'s has)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def _not_copied(folder: str, names: list[str]) -> set[str]:
    """What ``ProjectCopy`` leaves out: bytecode, and ``conf/local``, the user's own settings."""
    left_out = {"__pycache__"} | ({"local"} if Path(folder) == PROJECT / "conf" else set())
    return left_out.intersection(names)


@pytest.fixture
def project(tmp_path) -> ProjectCopy:
    return ProjectCopy(tmp_path / "parallel-trees")


@pytest.fixture(scope="module")
def module_project(tmp_path_factory) -> ProjectCopy:
    return ProjectCopy(tmp_path_factory.mktemp("project") / "parallel-trees")


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> dict[str, Path]:
    """Two folders made by ``kedro dask-certs``, as the README says: a team's, and a stranger's."""
    folders = {}
    for owner in ("team", "stranger"):
        folders[owner] = tmp_path_factory.mktemp("certificates") / owner
        from parallel_trees.cli import cli  # noqa: PLC0415

        made = CliRunner().invoke(cli, ["dask-certs", str(folders[owner])])
        assert made.exit_code == 0, made.output
    return folders
