"""The MLflow UI of tracked runs, served by ``make ui``'s own command, in a real browser;
what ``make ui`` prints from its start to a Ctrl-C; and the tracking page's snippet that reads
the runs back.

Two tracked runs of a project copy (10 trees, then 30, in process), then ``make ui`` in the
copy on a free loopback port. No test here needs the network: the browser aborts
and records every request that leaves the server, and the runs, the server and the
snippet refuse and log any connection that is not local (``tests/helpers/network.py``).
"""

import contextlib
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect
from sklearn.datasets import load_iris

from tests.helpers.browser import for_the_docs, serving
from tests.helpers.network import free_port_below_ephemeral
from tests.helpers.project import PROJECT, ProjectCopy

TREES = (10, 30)
EXPERIMENT = "parallel-trees"
# The UI as a user of this project sees it after a first visit: the classic
# machine-learning pages, not the GenAI ones, and no assistant panel over them.
UI_STATE = """
localStorage.setItem("mlflow.workflowType_v1", JSON.stringify("machine_learning"));
localStorage.setItem("mlflow.assistant.panelOpen_v1", "false");
localStorage.setItem("mlflow.assistant.fab.autoOpenedOnFirstLoad_v1", "true");
"""


@pytest.fixture(scope="module")
def tracked(module_project, offline) -> dict[str, dict]:
    """Two tracked runs (in process): each run's version (its MLflow run's name) -> its
    metrics.json."""
    for trees in TREES:
        params = f"tracking=true,n_estimators={trees}"
        with offline.in_this_process():
            run = module_project.in_process("run", "--params", params)
        assert run.returncode == 0, run.output
    return {
        version.name: json.loads((version / "metrics.json").read_text())
        for version in module_project.versions("data/08_reporting/metrics.json")
    }


def make_ui(port: int | str) -> list[str]:
    """``make ui`` on ``port``: the Makefile's own recipe, install taken as done."""
    command = ["make", "--no-print-directory", "-f", str(PROJECT / "Makefile"), "-o", "install"]
    return [*command, "ui", f"BIN={Path(sys.executable).parent}", f"PORT={port}"]


MAKES_OWN = {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}


def users_env(project, offline) -> dict[str, str]:
    """The copy's environment as a user's shell has it, not a sub-make's of ``make test``."""
    env = project.env(offline.env(project.root / "src"))
    return {name: value for name, value in env.items() if name not in MAKES_OWN}


@pytest.fixture(scope="module")
def ui(module_project, tracked, offline, tmp_path_factory):
    """``make ui`` in the copy."""
    log = tmp_path_factory.mktemp("ui") / "server.log"
    env = users_env(module_project, offline)
    with serving(make_ui("{port}"), module_project.root, env, log) as url:
        yield url


@pytest.fixture(scope="module")
def returning(browser):
    """The session's Chromium, opening the UI as a returning user sees it (``UI_STATE``)."""
    browser.add_init_script(UI_STATE)
    return browser


@pytest.fixture
def page(returning, ui, offline):
    """A page of the UI; at the end, no request may have left the machine."""
    outside = []

    def local_only(route):
        if route.request.url.startswith(ui):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page = returning.new_page()
    page.route("**/*", local_only)
    try:
        yield page
    finally:
        page.close()
    assert outside == [], outside
    offline.assert_no_request_left()


@pytest.mark.server
@pytest.mark.browser
def test_browser_lists_both_runs_with_their_scores_and_compares_them(page, ui, tracked, tmp_path):
    page.goto(ui)
    page.get_by_role("link", name=EXPERIMENT).click()
    expect(page.get_by_text(f"{len(TREES)} matching runs")).to_be_visible()
    page.get_by_role("button", name="Columns", exact=True).click()
    columns = page.get_by_test_id("column-selector-tree")
    for model in ("random_forest", "xgboost"):
        columns.get_by_title(f"{model}.cv_mean", exact=True).click()
    page.keyboard.press("Escape")

    # Newest first; a row's cells are split between the pinned columns and the others.
    for index, (name, metrics) in enumerate(reversed(tracked.items())):
        row = page.locator(f'.ag-row[row-index="{index}"]')
        expect(row.first).to_contain_text(name)
        for model in ("random_forest", "xgboost"):
            expect(row.nth(1)).to_contain_text(repr(metrics["models"][model]["cv_mean"]))
        row.first.get_by_role("checkbox", name=re.compile("row selection")).click()

    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_text(f"Comparing {len(TREES)} Runs from 1 Experiment")).to_be_visible()
    # Parameters against scores: the parameters that differ, then a metric, as axes.
    axes = page.locator(".js-plotly-plot .axis-title")
    expect(axes).to_have_text(
        [
            "n_estimators",
            "random_forest.n_estimators",
            "xgboost.n_estimators",
            "random_forest.cv_mean",
        ]
    )
    trees = page.get_by_role("row").filter(has=page.get_by_text("n_estimators", exact=True))
    expect(trees.get_by_role("cell")).to_have_text([str(t) for t in reversed(TREES)])
    page.screenshot(path=tmp_path / "mlflow-compare.png")
    for_the_docs(tmp_path / "mlflow-compare.png")


@pytest.mark.server
@pytest.mark.browser
def test_browser_shows_a_runs_models_and_files(page, ui, tracked):
    page.goto(ui)
    page.get_by_role("link", name=EXPERIMENT).click()
    name = next(iter(tracked))
    page.get_by_role("link", name=name).click()
    expect(page.get_by_text("Logged models (2)")).to_be_visible()
    for model in ("random_forest", "xgboost"):
        expect(page.get_by_role("link", name=model, exact=True).first).to_be_visible()

    page.get_by_role("tab", name="Artifacts").click()
    page.get_by_text("08_reporting", exact=True).click()
    page.get_by_text("metrics.json", exact=True).click()
    expect(page.get_by_text('"classes"').first).to_be_visible()


def readme_snippet(project: ProjectCopy, new_rows: pd.DataFrame, offline) -> list[str]:
    """The tracking page's snippet, run in ``project`` on ``new_rows`` (as the predict pipeline's
    default file): the lines it printed."""
    page = (PROJECT / "docs/tracking.md").read_text()
    (snippet,) = re.findall(r"^```python\n(.*?)^```$", page, re.M | re.S)
    path = project.root / "data/01_raw/new_rows.csv"
    new_rows.to_csv(path, index=False)
    try:
        done = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=project.root,
            env=project.env(offline.env(project.root / "src", MLFLOW_DISABLE_TELEMETRY="true")),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        path.unlink()
    assert done.returncode == 0, done.stderr
    offline.assert_no_request_left()
    return done.stdout.splitlines()


def test_the_readmes_snippet_reads_the_runs_back_and_predicts(module_project, tracked, offline):
    rows = load_iris(as_frame=True).data.sample(5, random_state=1)
    printed = readme_snippet(module_project, rows, offline)
    for name, metrics in tracked.items():
        (line,) = [line for line in printed if line.startswith(name)]
        trees = metrics["models"]["random_forest"]["hyperparameters"]["n_estimators"]
        assert line.split()[1:3] == [str(trees), metrics["ranking"][0]["model"]], line
    predicted = printed[-1].split()
    assert len(predicted) == 5 and set(predicted) <= set(metrics["run"]["classes"])


def test_the_readmes_snippet_predicts_a_users_raw_rows_as_predict_does(own_table, offline):
    """Text, a blank in a column of whole numbers (complete in training: integers), R's row
    numbers (left out in training), an island never seen: as ``kedro run --pipelines=predict``
    takes them, and with the same classes."""
    rows = pd.read_csv(own_table.project.root / "penguins.csv").head(8)
    assert rows["flipper_length_mm"].dtype == "int64"
    rows.loc[2, "flipper_length_mm"] = None
    rows.loc[3, "island"] = "Atlantis"
    printed = readme_snippet(own_table.project, rows, offline)
    model = own_table.metrics["best"]
    with open(own_table.saved(f"data/06_models/{model}.pkl"), "rb") as file:
        fitted = pickle.load(file)  # the run's own file
    run = own_table.metrics["run"]
    features = rows[[*run["feature_roles"]["numeric"], *run["feature_roles"]["categorical"]]]
    assert printed[-1].split() == [run["classes"][code] for code in fitted.predict(features)]


def start_ui(command: list[str], project: ProjectCopy, offline, log: Path) -> subprocess.Popen:
    """``command`` started in the copy, in a process group of its own (as a shell starts a
    command in the foreground), its output in ``log``: once it says where the UI is."""
    with log.open("w") as out:
        ui = subprocess.Popen(
            command,
            cwd=project.root,
            env=users_env(project, offline),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while "(Ctrl-C stops it)" not in log.read_text():
        if ui.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(ui.pid, signal.SIGKILL)
            raise AssertionError(log.read_text())
        time.sleep(0.1)
    return ui


def server_processes(port: int) -> str:
    """The command lines of mlflow's and uvicorn's processes serving on ``port``, if any."""
    found = ["pgrep", "-a", "-f", "--", f"--port {port} "]
    return subprocess.run(found, capture_output=True, text=True, check=False).stdout


def assert_port_free(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # refused while one listens
        s.bind(("127.0.0.1", port))


@pytest.mark.server
def test_make_ui_starts_without_a_warning_and_ctrl_c_stops_it_without_a_word(
    module_project, tracked, offline, tmp_path
):
    port = free_port_below_ephemeral()
    log = tmp_path / "make-ui.log"
    ready = f"The MLflow UI of mlflow.db: http://127.0.0.1:{port} (Ctrl-C stops it)"
    make = start_ui(make_ui(port), module_project, offline, log)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        started = log.read_text()
        # Ctrl-C: a terminal sends SIGINT to every process of the foreground group.
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=10)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    printed = log.read_text()
    stopped = printed.removeprefix(started)

    assert started.splitlines()[-1] == ready, printed
    assert not re.search(r"warn|error|traceback|exception", started, re.I), printed
    # Not a word (nor make's "*** [ui] Interrupt"): the shell's prompt comes back.
    assert stopped == "", printed
    # make stopped by the signal, as an interrupted command does, once all had stopped:
    # nothing serves on the port, and no process of the server is left.
    assert make.returncode == -signal.SIGINT, printed
    assert_port_free(port)
    assert server_processes(port) == ""
    offline.assert_no_request_left()


def test_make_ui_on_a_taken_port_says_so_in_one_line(module_project, offline):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            make_ui(port),
            cwd=module_project.root,
            env=users_env(module_project, offline),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert done.stdout == "", done.stdout  # no line saying the UI is there
    assert done.stderr.splitlines()[0] == (
        f"Port {port} is taken (Address already in use): make ui PORT=<another>"
    ), done.stderr


@pytest.mark.server
def test_a_ui_killed_outright_takes_its_server_with_it(module_project, tracked, offline, tmp_path):
    """SIGKILL leaves ``mlflow_ui`` no chance to forward a signal to its server, which runs
    in a session of its own: the kernel's parent-death signal stops it (Linux)."""
    port = free_port_below_ephemeral()
    log = tmp_path / "ui.log"
    command = [sys.executable, "-m", "parallel_trees.mlflow_ui", str(port)]
    ui = start_ui(command, module_project, offline, log)
    ui.kill()  # the module alone, not its group
    ui.wait()
    deadline = time.monotonic() + 30
    while server_processes(port):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    assert_port_free(port)
