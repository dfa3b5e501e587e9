"""The suite never reads the user's conf/local, data/ or environment variables.

A checkout is copied, then set up as the README's "Your own data" says
(``dataset: csv`` in conf/local/parameters.yml, a table at
data/01_raw/dataset.csv), with Kedro's and Dask's variables set as a user
might have them. ``kedro run`` there reads all of it; the end-to-end tests,
run from that checkout, still pass.
"""

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import PROJECT, user_variables

# The tests that a user's own data broke (issue 18): the end-to-end module's
# shared runs, the tutorial's numbers, the parameter checks; and the checks of
# the shipped configuration.
TESTS = ["tests/test_run.py", "tests/test_parameters.py"]
SELECTED = "TestParallelAndSequentialRuns or tutorial or bad_parameters or test_parameters"
USER_PARAMETERS = "dataset: csv\ntarget_column: kind\ncv_folds: 2\n"
USER_TABLE = "width,height,kind\n" + "".join(
    f"{i},{i % 7},{'big' if i % 2 else 'small'}\n" for i in range(40)
)
USER_ENVIRONMENT = {
    "KEDRO_ENV": "tutorial",
    "KEDRO_MP_CONTEXT": "spawn",
    "KEDRO_LOGGING_CONFIG": "/nonexistent/logging.yml",
    "DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:9",
    "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of this repository, set up with a user's own data and settings."""
    root = tmp_path_factory.mktemp("checkout") / "parallel-trees"
    for name in ("conf", "src", "tests", "pyproject.toml", ".telemetry"):
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    for layer in (PROJECT / "data").iterdir():
        (root / "data" / layer.name).mkdir(parents=True, exist_ok=True)
    (root / "conf/local").mkdir(exist_ok=True)
    (root / "conf/local/parameters.yml").write_text(USER_PARAMETERS)
    (root / "data/01_raw/dataset.csv").write_text(USER_TABLE)
    return root


def test_the_users_files_are_live_in_the_checkout(checkout):
    run = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "data_preparation"],
        cwd=checkout,
        env=os.environ | {"PYTHONPATH": str(checkout / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Data: 40 rows, 2 feature columns, 2 classes" in run.stdout


def test_the_end_to_end_tests_pass_there_all_the_same(checkout, tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *TESTS,
            "-k",
            SELECTED,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
        ],
        cwd=checkout,
        env=os.environ | USER_ENVIRONMENT | {"PYTHONPATH": str(checkout / "src")},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and " failed" not in run.stdout and "error" not in run.stdout


def test_the_variables_a_user_may_set_are_the_ones_left_out():
    assert sorted(user_variables(USER_ENVIRONMENT | {"DO_NOT_TRACK": "1", "HOME": "/h"})) == [
        "DASK_SCHEDULER_ADDRESS",
        "DO_NOT_TRACK",
        "KEDRO_ENV",
        "KEDRO_LOGGING_CONFIG",
        "MLFLOW_TRACKING_URI",
    ]
