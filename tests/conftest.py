"""The suite's setup: hermetic, its markers, small real data, and the shared runs.

The suite never reads the user's ``conf/local``, ``data/`` or environment
variables, nor writes in the project (``tests/test_suite.py`` checks it). The
user's variables are removed here, before any module of the project or of Kedro
is imported: Kedro reads some of them (``KEDRO_LOGGING_CONFIG``) as it is imported.

Markers say what a test needs (``pyproject.toml`` lists them); CI selects by
them. A test that uses a fixture made with ``starts_processes`` is marked
``processes`` here; a test that runs ``kedro`` with a runner that starts worker
processes without that marker fails (``tests/helpers/project.py``).
"""

import importlib
import importlib.util
import os
from collections.abc import Mapping
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
importlib.import_module("kedro.framework.project")
del os.environ["KEDRO_LOGGING_CONFIG"]


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ.update(_removed)


# Runs last, to see what every other test left behind (tests/test_suite.py).
LAST = "test_the_suite_writes_nothing_in_the_project"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``processes`` every test that uses a fixture that starts worker processes;
    put ``LAST`` last."""
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.processes)
    items.sort(key=lambda item: getattr(item, "name", "") == LAST)


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
