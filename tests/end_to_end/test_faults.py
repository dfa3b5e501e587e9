"""End to end: the user's own CSV, bad input, and faults, through the real ``kedro`` CLI.

Every failure must end with one clear message, a non-zero exit, no process
left running, and the previous run's results still the latest loadable ones.
"""

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import Version
from kedro_datasets.json import JSONDataset
from sklearn.datasets import load_iris

from parallel_trees.parallel_runner import shared_data_folders
from tests.conftest import ProjectCopy

RESULTS = [
    "data/08_reporting/metrics.json",
    "data/07_model_output/test_predictions.csv",
    "data/06_models/random_forest.pkl",
    "data/06_models/xgboost.pkl",
    "data/06_models/xgboost.json",
]
# The forest alone would train for minutes: long enough to be caught while training,
# and a run that ends within seconds of a fault did not wait for it.
SLOW_FOREST = "random_forest.n_estimators=30000"
START_METHODS = ["fork", "spawn", "forkserver"]
# The run ends within 3 s of a fault on an idle machine; more on a busy one.
PROMPT = 10


def iris_table() -> pd.DataFrame:
    """Iris as a user's CSV would hold it: named feature columns, string classes."""
    bunch = load_iris(as_frame=True)
    return bunch.data.assign(species=bunch.target_names[bunch.target])


def saved_versions(project: ProjectCopy) -> dict[str, list[str]]:
    return {path: [v.name for v in project.versions(path)] for path in RESULTS}


def latest_metrics(project: ProjectCopy) -> dict:
    """metrics.json as Kedro loads it: its latest version."""
    path = project.root / "data/08_reporting/metrics.json"
    return JSONDataset(filepath=str(path), version=Version(None, None)).load()


def processes_in_group(group: int) -> list[int]:
    """The live processes of a process group (a run started by ``ProjectCopy.start``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


def wait_for_node(journals: Path, run, node: str) -> int:
    """The pid of the process running ``node`` (a glob: the first such node), from the
    run's own journal."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()[0]
        for entry in journals.glob(f"parallel-trees-running/*/{node}"):
            text = entry.read_text()
            if text:
                return int(text)
        time.sleep(0.05)
    raise AssertionError(f"{node} never started")


def wait_for_group_to_end(group: int) -> list[int]:
    """The processes of ``group`` still alive 3 s after its main process ended."""
    deadline = time.monotonic() + 3
    while processes_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_in_group(group)


def data_manager(run) -> int:
    """The pid of the run's data manager: Kedro starts it before any other child process
    (the first started, not the lowest pid: pids wrap around on a busy machine)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        pid = int(stat.parent.name)
        # spawn's and forkserver's helpers run multiprocessing.*
        if _parent(stat) == run.pid and _cmdline(pid) and b"multiprocessing." not in _cmdline(pid):
            children.append((_started(stat), pid))
    return min(children)[1]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _started(stat: Path) -> int:
    """When a process started, in clock ticks since boot (its stat's 22nd field)."""
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[19])
    except OSError:  # it ended meanwhile: not the manager of a running run
        return sys.maxsize


def _parent(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


@pytest.fixture(scope="module")
def previous(module_project) -> dict[str, list[str]]:
    """A good run: its results must stay the latest through every failure below."""
    run = module_project.kedro("run")
    assert run.returncode == 0, run.output
    return saved_versions(module_project)


def assert_nothing_kept(project: ProjectCopy, previous: dict[str, list[str]]) -> None:
    assert saved_versions(project) == previous
    version = previous["data/08_reporting/metrics.json"][-1]
    on_disk = project.root / "data/08_reporting/metrics.json" / version / "metrics.json"
    assert latest_metrics(project) == json.loads(on_disk.read_text())


class TestYourOwnCsv:
    def test_three_steps_file_two_parameters_run(self, project):
        table = iris_table()
        table.to_csv(project.root / "data/01_raw/dataset.csv", index=False)

        run = project.kedro(
            "run", "--runner=ParallelRunner", "--params", "dataset=csv,target_column=species"
        )

        assert run.returncode == 0, run.output
        metrics = latest_metrics(project)
        assert metrics["run"]["dataset"] == "csv"
        assert metrics["run"]["classes"] == ["setosa", "versicolor", "virginica"]
        assert metrics["run"]["rows"] == 150
        (predictions,) = project.versions("data/07_model_output/test_predictions.csv")
        table = pd.read_csv(predictions / "test_predictions.csv", index_col="row")
        assert set(table["species"]) == {"setosa", "versicolor", "virginica"}
        assert set(table["xgboost"]) <= set(table["species"])
        # Each held-out row keeps its index in the user's file, and its class.
        assert (table["species"] == iris_table().loc[table.index, "species"]).all()

    def test_csv_path_reads_another_file_for_one_run(self, project, tmp_path):
        table = iris_table().assign(species=lambda t: t["species"].map({"setosa": 10}).fillna(20))
        table.to_csv(tmp_path / "mine.csv", index=False)
        run = project.kedro(
            "run", "--params", f"dataset=csv,target_column=species,csv_path={tmp_path}/mine.csv"
        )
        assert run.returncode == 0, run.output
        assert latest_metrics(project)["run"]["classes"] == [10.0, 20.0]


def _write(table: pd.DataFrame | None = None, raw: bytes | None = None):
    def write(path: Path) -> None:
        if raw is not None:
            path.write_bytes(raw)
        elif table is not None:
            table.to_csv(path, index=False)

    return write


IRIS = iris_table()
BAD_INPUT = {
    "missing file": (
        _write(),
        "",
        "data/01_raw/dataset.csv does not exist. Put your CSV file there",
    ),
    "misspelled target column": (
        _write(IRIS),
        "target_column=specie",
        "data/01_raw/dataset.csv. Did you mean 'species'? Its columns: sepal length (cm), "
        "sepal width (cm), petal length (cm), petal width (cm), species.",
    ),
    "infinite value": (
        _write(IRIS.assign(**{"sepal width (cm)": [1.0] * 5 + [float("inf")] + [1.0] * 144})),
        "",
        "has values the models cannot take, infinite or beyond ±3.4e+38 (float32, which the "
        "models compute in): 'sepal width (cm)' in 1 rows (lines 7). Scale those columns",
    ),
    "single class": (
        _write(IRIS.assign(species="setosa")),
        "",
        "has a single class ('setosa'): a classifier needs rows of at least two classes",
    ),
    "class with fewer rows than cv_folds": (
        _write(IRIS.iloc[:105]),  # 5 virginica rows, of which 4 go to training
        "",
        "cv_folds = 5 is more than the 4 training rows of the smallest class, 'virginica'; "
        "set cv_folds to at most 4",
    ),
    "class with a single row": (
        _write(IRIS.iloc[:101]),  # stratified splits and k-fold CV both need 2 rows
        "",
        "data/01_raw/dataset.csv has classes with fewer than 2 rows: 'virginica' (1 row: line "
        "102); cross-validation needs at least 2 rows of every class (cv_folds >= 2). Add rows "
        "of those classes, or drop their rows.",
    ),
    "test_size too large": (
        _write(IRIS),
        "test_size=0.99",
        "test_size = 0.99 holds out 149 of 150 rows and leaves 1 for training, too few to "
        "surely keep 2 training rows of every class, the fewest cross-validation needs "
        "(cv_folds >= 2); set test_size between 0.02 and 0.96, or to 0 for no held-out part.",
    ),
    "empty file": (
        _write(raw=b""),
        "",
        "data/01_raw/dataset.csv is empty: it needs a header row naming the columns, then rows.",
    ),
    "header only": (_write(IRIS.iloc[:0]), "", "has a header row but no data rows"),
    "not a CSV file": (
        _write(raw=bytes(range(256)) * 20),
        "",
        "data/01_raw/dataset.csv could not be read as a CSV file: 'utf-8' codec can't decode",
    ),
}


class TestBadInput:
    @pytest.mark.parametrize("case", list(BAD_INPUT))
    def test_one_clear_message_before_training_and_nothing_overwritten(
        self, module_project, previous, case
    ):
        write, extra, message = BAD_INPUT[case]
        path = module_project.root / "data/01_raw/dataset.csv"
        path.unlink(missing_ok=True)
        write(path)
        params = ",".join(p for p in ("dataset=csv,target_column=species", extra) if p)

        run = module_project.kedro("run", "--runner=ParallelRunner", "--params", params)

        assert run.returncode == 1, run.output
        assert message in run.output
        assert "Traceback" not in run.output
        assert not re.search(r"evaluate_folds|fit_model", run.output)  # no training started
        assert_nothing_kept(module_project, previous)

    def test_a_model_rejecting_a_parameter_is_named_with_the_parameter(
        self, module_project, previous
    ):
        run = module_project.kedro(
            "run", "--runner=ParallelRunner", "--params", "random_forest.max_features=bogus"
        )
        assert run.returncode == 1, run.output
        assert (
            "Error: Random Forest (random_forest) could not be trained: The 'max_features' "
            "parameter of RandomForestClassifier must be"
        ) in run.output
        assert (
            "Change random_forest.max_features = 'bogus'. "
            "random_forest.max_features is set in --params.\n"
        ) in run.output
        assert "Traceback" not in run.output
        # XGBoost trained and saved meanwhile; that half of a run is deleted.
        assert_nothing_kept(module_project, previous)
        assert shared_data_folders(run.pid) == []

    def test_debug_logging_shows_the_traceback(self, module_project, previous, tmp_path):
        logging_yml = (module_project.root / "conf/logging.yml").read_text()
        debug = tmp_path / "logging.yml"
        debug.write_text(
            logging_yml.replace(
                "parallel_trees:\n    level: INFO", "parallel_trees:\n    level: DEBUG"
            )
        )
        run = module_project.kedro(
            "run",
            "--params",
            "random_forest.max_features=bogus",
            env={"KEDRO_LOGGING_CONFIG": str(debug)},
        )
        assert run.returncode == 1
        assert "Traceback" in run.output
        assert "InvalidParameterError" in run.output
        assert "Error: Random Forest (random_forest) could not be trained" in run.output


# Each of the forest's training nodes trains for minutes with SLOW_FOREST; the run
# is signalled once the first of them is running, whichever it is.
FOREST = "random_forest.fit_model"
FOREST_NODES = "random_forest.*"
FOREST_NODE = r"random_forest\.(?:evaluate_folds_\d+|fit_model)"


def lost_with(node: str, pid: int) -> str:
    """A pattern of the nodes lost, one matching the pattern ``node`` in process ``pid``
    among them: the other workers may still be running other training nodes."""
    other = r"[\w.]+ \(process \d+\)"
    return rf"(?:{other}, )*{node} \(process {pid}\)(?:, {other})*"


def signalled_run(
    project: ProjectCopy,
    journals: Path,
    method: str,
    send,
    runner: str = "ParallelRunner",
    selection: tuple[str, ...] = (),
) -> dict:
    """A run under ``method``, ``send(run, pid)`` once a forest node trains in process ``pid``.

    Returns what the run printed, its exit code, the forest's pid, how many
    seconds after ``send`` the run ended, the processes it left, and the files
    of its shared data while the forest trained and after the run ended.
    """
    run = project.start(
        "run",
        f"--runner={runner}",
        "--params",
        SLOW_FOREST,
        *selection,
        env={"KEDRO_MP_CONTEXT": method, "TMPDIR": str(journals)},
    )
    try:
        pid = wait_for_node(journals, run, FOREST_NODES)
        time.sleep(0.5)  # well into training
        training = [f.name for folder in shared_data_folders(run.pid) for f in folder.iterdir()]
        sent = time.monotonic()
        send(run, pid)
        output, _ = run.communicate(timeout=120)
        ended = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    left = wait_for_group_to_end(run.pid)
    return {
        "output": output,
        "code": run.returncode,
        "pid": pid,
        "ended": ended,
        "left": left,
        "shared data": {"training": training, "after": shared_data_folders(run.pid)},
    }


def assert_shared_data_deleted(run: dict) -> None:
    """The run handed its split to the training nodes through files, and deleted them all."""
    assert "X_train" in run["shared data"]["training"]
    assert run["shared data"]["after"] == []


@pytest.fixture
def journals(tmp_path) -> Path:
    """The run's temporary folder, where its journal of running nodes is."""
    return tmp_path


@pytest.mark.parametrize("method", START_METHODS)
class TestFaults:
    """The same behaviour whether workers are started by fork, spawn or forkserver."""

    def test_a_killed_worker_ends_the_run_at_once_naming_its_node(
        self, module_project, previous, journals, method
    ):
        # SIGKILL to the worker, as the out-of-memory killer does.
        run = signalled_run(
            module_project, journals, method, lambda _, pid: os.kill(pid, signal.SIGKILL)
        )
        assert run["code"] == 1, run["output"]
        assert re.search(
            rf"^Error: The run stopped: a worker process \(pid {run['pid']}\) was killed by "
            rf"SIGKILL\. Nodes lost: {lost_with(FOREST_NODE, run['pid'])}\. "
            "Nothing of this run was kept.",
            run["output"],
            re.M,
        ), run["output"]
        assert run["ended"] < PROMPT, run["output"]  # not when the forest would have ended
        assert run["left"] == []
        assert "Traceback" not in run["output"]
        assert_nothing_kept(module_project, previous)
        assert not list(journals.glob("parallel-trees-running/*"))
        assert_shared_data_deleted(run)

    @pytest.mark.parametrize(
        "send",
        [
            pytest.param(lambda run, _: os.killpg(run.pid, signal.SIGINT), id="ctrl-c"),
            pytest.param(lambda run, _: os.kill(run.pid, signal.SIGINT), id="kill-int"),
        ],
    )
    def test_ctrl_c_stops_every_process_and_keeps_nothing(
        self, module_project, previous, journals, method, send
    ):
        # Ctrl-C signals the terminal's whole process group; kill -INT the main process.
        run = signalled_run(module_project, journals, method, send)
        assert run["code"] == 130, run["output"]
        assert "Error: Run interrupted (Ctrl-C); nothing of it was kept." in run["output"]
        assert "Traceback" not in run["output"]
        assert "KeyboardInterrupt" not in run["output"]
        assert run["ended"] < PROMPT, run["output"]
        assert run["left"] == []
        assert_nothing_kept(module_project, previous)
        assert_shared_data_deleted(run)


def test_a_killed_data_manager_of_kedros_runner_ends_the_run_at_once(
    module_project, previous, journals
):
    # Only Kedro's own ParallelRunner starts a data manager (the project's hands data
    # through files); under fork, as Kedro's runs project hooks in forked workers only.
    manager = {}

    def kill_manager(run, _):
        manager["pid"] = data_manager(run)
        os.kill(manager["pid"], signal.SIGKILL)

    # The forest's fit alone: a node submitted after the manager's death would make its
    # worker print a traceback, as it unpickles the node's datasets (proxies of the
    # dead manager), before the watchdog ends it. Left alone; see the README.
    selection = ("--to-nodes", FOREST)
    run = signalled_run(
        module_project,
        journals,
        "fork",
        kill_manager,
        runner="kedro.runner.ParallelRunner",
        selection=selection,
    )
    assert run["code"] == 1, run["output"]
    assert re.search(
        rf"^Error: The run stopped: the data manager process \(pid {manager['pid']}\) was "
        rf"killed by SIGKILL\. Nodes lost: {re.escape(FOREST)} \(process {run['pid']}\)\.",
        run["output"],
        re.M,
    ), run["output"]
    assert run["ended"] < PROMPT, run["output"]
    assert run["left"] == []
    assert "Traceback" not in run["output"]
    assert_nothing_kept(module_project, previous)


def test_ctrl_c_stops_a_sequential_run_in_the_middle_of_a_node(module_project, previous, journals):
    run = signalled_run(
        module_project,
        journals,
        "fork",
        lambda run, _: os.killpg(run.pid, signal.SIGINT),
        runner="SequentialRunner",
    )
    assert run["code"] == 130, run["output"]
    assert "Error: Run interrupted (Ctrl-C); nothing of it was kept." in run["output"]
    assert "Traceback" not in run["output"]
    assert run["ended"] < PROMPT, run["output"]
    assert_nothing_kept(module_project, previous)


def test_two_runs_at_once_both_succeed_and_both_are_kept(project, journals):
    # Kedro names a run's versions by its start time, to the millisecond: the
    # second run starts once the first has begun (its journal exists), as two
    # runs started by hand do, or both would share one version name.
    env = {"TMPDIR": str(journals)}
    first = project.start("run", "--runner=ParallelRunner", env=env)
    deadline = time.monotonic() + 120
    while not list(journals.glob("parallel-trees-running/*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    runs = [first, project.start("run", "--runner=ParallelRunner", env=env)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    for path in RESULTS:
        assert len(project.versions(path)) == 2, path
    first, second = project.metrics()
    assert first["models"].keys() == second["models"].keys()
    assert first["models"]["xgboost"]["cv_scores"] == second["models"]["xgboost"]["cv_scores"]
    # Each run in processes of its own (whether a run's training nodes of 0.1 s
    # met in two workers is test_run's question, asked there with longer ones).
    pids = (
        {s["pid"] for m in run["models"].values() for s in m["timing"]} for run in (first, second)
    )
    assert next(pids).isdisjoint(next(pids))


# Loaded by every Python process of the run (PYTHONPATH): records and refuses
# any connection that would leave this machine (loopback and Unix sockets,
# which the runners use between processes, pass).
GUARD = """
import os, socket
_connect = socket.socket.connect
def connect(self, address):
    local = self.family == socket.AF_UNIX or str(address[0]) in ("127.0.0.1", "::1", "localhost")
    if not local:
        with open(os.environ["NETWORK_LOG"], "a") as log:
            log.write(f"{os.getpid()} {address}\\n")
        raise OSError("network access refused by the test")
    return _connect(self, address)
socket.socket.connect = connect
"""


def test_a_run_never_touches_the_network(project, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "network.log"
    run = project.kedro(
        "run",
        "--runner=ParallelRunner",
        env={"PYTHONPATH": f"{tmp_path}:{project.root / 'src'}", "NETWORK_LOG": str(log)},
    )
    assert run.returncode == 0, run.output
    assert "Model Accuracy" in run.output
    assert not log.exists(), log.read_text()
