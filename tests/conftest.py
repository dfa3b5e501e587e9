"""Shared fixtures: small real data, and a throwaway copy of the project to run."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from parallel_trees.cli import cli
from parallel_trees.pipelines.data_preparation.nodes import (
    load_dataset,
    make_cv_splits,
    split_data,
)

PROJECT = Path(__file__).resolve().parents[1]
COPIED = ["conf", "src", "pyproject.toml", ".telemetry"]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    features, target, *_ = load_dataset("iris", {}, 21, "target", None)
    return features, target


@pytest.fixture(scope="session")
def iris_split(iris):
    """X_train, X_test, y_train, y_test of the default run."""
    return split_data(*iris, test_size=0.2, random_state=21)


@pytest.fixture(scope="session")
def iris_folds(iris_split):
    return make_cv_splits(iris_split[2], [0, 1, 2], cv_folds=5, cv_shuffle=True, random_state=21)


@dataclass
class Run:
    """What one ``kedro`` command did."""

    returncode: int
    output: str  # stdout and stderr, interleaved as a user sees them


class ProjectCopy:
    """A copy of this project in a temporary folder, run through the real CLI."""

    def __init__(self, root: Path):
        self.root = root
        for name in COPIED:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, root / name)
        (root / "conf" / "local").mkdir(exist_ok=True)
        for layer in (PROJECT / "data").iterdir():  # the empty data layers, not their files
            if layer.is_dir():
                (root / "data" / layer.name).mkdir(parents=True, exist_ok=True)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a command in the copy: its ``src`` first on the path."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(LEFT_OUT)}
        env |= {"PYTHONPATH": str(self.root / "src"), "COLUMNS": "200"}
        return env | (extra or {})

    def kedro(self, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> Run:
        """``kedro ARGS`` in the copy (``env``: variables to add or override)."""
        done = subprocess.run(
            [sys.executable, "-m", "kedro", *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout)

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


# The project's own opt-out is the committed .telemetry file: tests run without
# the environment variables so that they check that file alone does the job.
TELEMETRY_OPT_OUTS = {"KEDRO_DISABLE_TELEMETRY", "DO_NOT_TRACK"}
# A Dask cluster or certificate of the developer's (DASK_SCHEDULER_ADDRESS, any
# DASK_* setting) would change DaskRunner's runs; tests pass their own.
LEFT_OUT = (*TELEMETRY_OPT_OUTS, "DASK_")  # the variables whose names start so


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
        made = CliRunner().invoke(cli, ["dask-certs", str(folders[owner])])
        assert made.exit_code == 0, made.output
    return folders
