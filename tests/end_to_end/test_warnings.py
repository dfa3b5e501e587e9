"""End-to-end: a library's warning is one line on the console, in whichever process it is
raised, under every runner (DaskRunner's: tests/end_to_end/test_dask.py, TestTLSCluster).

Each run is a ``kedro`` process of its own: in the test process, pytest keeps the warnings.
"""

import pytest

from tests.helpers.console import OOB_PARAMS, assert_warned_in_one_line


def test_sequential_runner_shows_a_library_s_warning_in_one_line(project):
    run = project.kedro("run", "--params", OOB_PARAMS)
    assert run.returncode == 0, run.output
    assert_warned_in_one_line(run.output, (project.root / "info.log").read_text())


@pytest.mark.processes
def test_parallel_runner_s_workers_show_it_in_one_line_under_this_start_method(project):
    # The suite's start method (KEDRO_MP_CONTEXT): workers forked from kedro run, or
    # spawned or forkserver ones, which load the project's settings themselves.
    run = project.kedro(
        "run", "--runner=ParallelRunner", "--params", OOB_PARAMS, env={"COLUMNS": "80"}
    )
    assert run.returncode == 0, run.output
    log = (project.root / "info.log").read_text()
    assert_warned_in_one_line(run.output, log)
    # Raised in the workers, which fit the forests.
    warned = {line.split(" - ")[1] for line in log.splitlines() if " - py.warnings." in line}
    assert warned and str(run.pid) not in warned, log
