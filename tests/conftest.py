"""The suite's setup: hermetic, its markers, small real data, and the shared runs.

The suite never reads the user's ``conf/local``, ``data/`` or environment
variables, nor writes in the project (checked once every test has run). The
user's variables are removed here, before any module of the project or of Kedro
is imported: Kedro reads some of them (``KEDRO_LOGGING_CONFIG``) as it is imported.

Markers say what a test needs (``pyproject.toml`` lists them); CI selects by
them. A test that uses a fixture made with ``starts_processes`` is marked
``processes`` here; a test that runs ``kedro`` with a runner that starts worker
processes without that marker fails (``tests/helpers/project.py``).
"""

import importlib
import importlib.util
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

# The helpers' asserts explain themselves as the tests' do.
pytest.register_assert_rewrite("tests.helpers")

from tests.helpers import project as _project  # noqa: E402
from tests.helpers.markers import PROCESS_FIXTURES  # noqa: E402

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
    runs the tests marked ``processes`` under each).
    """
    return [
        name
        for name in environ
        if name.startswith(("KEDRO_", "DASK_", "MLFLOW_"))
        and name != START_METHOD
        or name == "DO_NOT_TRACK"
    ]


_removed = {name: os.environ.pop(name) for name in user_variables(os.environ)}
# This process logs as Kedro does outside a project: to the console, no info.log in the
# folder pytest runs from. (A run in process applies its project's own; tests that need
# the project's logging in this process apply it in a copy: ``configure_logging``.)
os.environ["KEDRO_LOGGING_CONFIG"] = str(
    Path(importlib.util.find_spec("kedro").origin).parent / "framework/project/rich_logging.yml"
)
logging.disable(logging.INFO)  # its "Using ... as logging configuration" line
importlib.import_module("kedro.framework.project")
logging.disable(logging.NOTSET)
del os.environ["KEDRO_LOGGING_CONFIG"]


# OpenMP threads (scikit-learn's, XGBoost's) that wait for work sleep rather than spin:
# make test runs two pytest workers on a 2-core machine, CI its other Pythons beside it,
# and spinning threads then burned the cores the others' processes needed (the suite under
# pytest -n 2: 417 s at 178% CPU spinning, 287 s at 169% asleep). What a test checks does
# not depend on it. Set before any module loads OpenMP, and inherited by every process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ.update(_removed)


# What runs had written in the project before the session (a user's own make run).
_written_before: set[str] = set()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller (or pytest alone)
        _written_before.update(_project.written_by_runs(_project.PROJECT))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Once every test has run (on every pytest-xdist worker): fail the session if a run
    wrote in the project rather than in its copy (``_project.written_by_runs``)."""
    if hasattr(session.config, "workerinput"):  # a worker: the controller checks
        return
    written = sorted(set(_project.written_by_runs(_project.PROJECT)) - _written_before)
    if written:
        terminal = session.config.get_terminal_writer()
        terminal.line()
        terminal.line(
            f"The suite wrote in the project: {', '.join(written)} (runs write in copies)",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``processes`` every test that uses a fixture that starts worker processes;
    group the tests for pytest-xdist (``xdist_groups``)."""
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.processes)
    for item, group in xdist_groups(items).items():
        item.add_marker(pytest.mark.xdist_group(group))


# The shared runs that cost most to make (tests/helpers/runs.py), costliest first: under
# make test's two workers, each is made by one worker only.
COSTLY = ("tuned_runs", "slow_runs", "diabetes_runs")


def xdist_groups(items: list[pytest.Item]) -> dict[pytest.Item, str]:
    """Each test's group under ``pytest -n 2 --dist loadgroup`` (make test): the costliest
    shared run it reads (``COSTLY``), else its file (whose module fixtures it shares).

    A group runs on one worker: each costly run is made once, and the workers share the
    rest. (A cheaper shared run may be made by both.)"""
    return {
        item: next(
            (f"run {name}" for name in COSTLY if name in getattr(item, "fixturenames", ())),
            item.nodeid.split("::")[0],
        )
        for item in items
    }


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Let ``ProjectCopy`` know the markers of the test it runs for (fixtures included)."""
    _project.current_markers.clear()
    _project.current_markers.update(marker.name for marker in item.iter_markers())


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch) -> None:
    """Every test runs from a folder of its own: whatever it starts there (a process that
    imports Kedro applies the conf/logging.yml of its folder, and writes its info.log
    there) stays out of the project."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def environment_kept() -> Iterator[None]:
    """Every test leaves the process's environment as it found it: an MLflow run opened in
    process sets MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_ID (mlflow.set_tracking_uri,
    set_experiment), which every ``kedro`` process a later test starts would inherit, and
    log its run there rather than in its project's store."""
    environment = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(environment)


@pytest.fixture(scope="session")
def project_root(tmp_path_factory) -> Path:
    """The project as committed: a copy, without the user's conf/local."""
    return _project.ProjectCopy(tmp_path_factory.mktemp("root") / "parallel-trees").root


@pytest.fixture
def project(tmp_path) -> _project.ProjectCopy:
    """A copy of the project of its own, for a test that changes it or needs it fresh."""
    return _project.ProjectCopy(tmp_path / "parallel-trees")


@pytest.fixture(scope="module")
def module_project(tmp_path_factory) -> _project.ProjectCopy:
    """A copy of the project shared by a module's tests."""
    return _project.ProjectCopy(tmp_path_factory.mktemp("project") / "parallel-trees")


@pytest.fixture(scope="session")
def iris():
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


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> dict[str, Path]:
    """Two folders made by ``kedro dask-certs``, as the README says: a team's, and a stranger's."""
    from click.testing import CliRunner  # noqa: PLC0415

    from parallel_trees.cli import cli  # noqa: PLC0415

    folders = {}
    for owner in ("team", "stranger"):
        folders[owner] = tmp_path_factory.mktemp("certificates") / owner
        made = CliRunner().invoke(cli, ["dask-certs", str(folders[owner])])
        assert made.exit_code == 0, made.output
    return folders


pytest_plugins = ["tests.helpers.runs", "tests.helpers.browser"]
