"""The private Kedro API this project uses: an upgrade that changes it fails here first,
each failure naming the helper of ``kedro_internals`` and the Kedro version."""

import contextlib
import logging
import multiprocessing
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import kedro
import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework import project
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, DatasetError, MemoryDataset, Version
from kedro.pipeline import Pipeline, node
from kedro.runner import ParallelRunner as KedroParallelRunner
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset, SQLQueryDataset, SQLTableDataset

from parallel_trees import kedro_internals
from parallel_trees.datasets import LocalCSVDataset, TrainedModelDataset
from parallel_trees.kedro_internals import (
    PARALLEL_RUNNER_OVERRIDES,
    configure_like_forked,
    connection,
    description,
    disable_plugin_hooks,
    is_data_manager,
    missing_credentials,
    no_replacing_warning,
    own_dataset_message,
    parameter_files,
    pool_size,
    project_hook_manager,
    saved_path,
    saved_version,
    suggest_resume,
    task_hook_manager,
    versioned_outputs,
    versions_folder,
)
from parallel_trees.runners import ParallelRunner
from parallel_trees.settings import CONFIG_LOADER_ARGS
from tests.helpers.project import PROJECT, logging_taken_back, other_project


@contextlib.contextmanager
def helper(name: str) -> Iterator[None]:
    """Fail with the helper's name and Kedro's version, whatever went wrong."""
    assert callable(getattr(kedro_internals, name, None)) or name.isupper(), name
    try:
        yield
    except Exception as error:
        pytest.fail(
            f"kedro_internals.{name} no longer works with Kedro {kedro.__version__} (written "
            f"against 1.7): {type(error).__name__}: {error}"
        )


def _same(x: dict) -> dict:
    return x


def _twice(x: dict) -> tuple[dict, dict]:
    return x, x


def test_saved_path(tmp_path):
    with helper("saved_path"):
        dataset = JSONDataset(filepath=str(tmp_path / "m.json"), version=Version(None, "2026-v1"))
        dataset.save({"a": 1})
        assert saved_path(dataset) == tmp_path / "m.json" / "2026-v1" / "m.json"
        assert saved_path(dataset).is_file()


def test_versions_folder(tmp_path):
    with helper("versions_folder"):
        dataset = JSONDataset(filepath=str(tmp_path / "m.json"), version=Version(None, "2026-v1"))
        dataset.save({"a": 1})
        assert versions_folder(dataset) == tmp_path / "m.json"
        assert [p.name for p in versions_folder(dataset).iterdir()] == ["2026-v1"]
        local = LocalCSVDataset(filepath=str(tmp_path / "t.csv"), version=Version(None, None))
        assert versions_folder(local) == tmp_path / "t.csv"
        remote = JSONDataset(filepath="memory://bucket/m.json", version=Version(None, None))
        assert versions_folder(remote) is None
        assert versions_folder(JSONDataset(filepath=str(tmp_path / "n.json"))) is None


def test_versioned_outputs(tmp_path):
    with helper("versioned_outputs"):
        version = Version(None, "2026-v1")
        catalog = DataCatalog(
            {
                "report": JSONDataset(filepath=str(tmp_path / "r.json"), version=version),
                "table": CSVDataset(filepath=str(tmp_path / "t.csv")),  # not versioned
                "scores": MemoryDataset(),
            }
        )
        pipeline = Pipeline(
            [node(_same, "params:x", "scores"), node(_twice, "scores", ["report", "table"])]
        )
        found = versioned_outputs(pipeline, catalog)
        assert list(found) == ["report"]
        dataset, path = found["report"]
        assert dataset is catalog.get("report")
        assert path == tmp_path / "r.json" / "2026-v1" / "r.json"
        assert not path.exists()  # where it will be: not saved yet


@pytest.mark.filterwarnings("ignore:Save version")
def test_saved_version(tmp_path):
    with helper("saved_version"):
        path = str(tmp_path / "m.json")
        JSONDataset(filepath=path, version=Version(None, "2026-v1")).save({"run": 1})
        JSONDataset(filepath=path, version=Version(None, "2026-v3")).save({"run": 3})
        mine = JSONDataset(filepath=path, version=Version(None, "2026-v2"))
        mine.save({"run": 2})
        assert saved_version(mine).load() == {"run": 2}  # not the latest, v3


def test_missing_credentials():
    with helper("missing_credentials"):
        catalog = {"raw_data": {"type": "pandas.SQLTableDataset", "table_name": "t"}}
        with pytest.raises(KeyError) as error:
            DataCatalog.from_config({"raw_data": catalog["raw_data"] | {"credentials": "db"}}, {})
        assert missing_credentials(error.value) == "db"
        assert missing_credentials(KeyError("raw_data")) is None


def test_connection():
    with helper("connection"):
        con = "postgresql+psycopg://trees:s3cret@127.0.0.1:5432/tables?sslmode=require&token=t0k"
        dataset = SQLQueryDataset(sql="SELECT 1", credentials={"con": con})
        assert connection(dataset) == "postgresql+psycopg://127.0.0.1:5432/tables"
        sqlite = SQLTableDataset(table_name="t", credentials={"con": "sqlite:///data/t.db"})
        assert connection(sqlite) == "sqlite:///data/t.db"
        assert connection(CSVDataset(filepath="x.csv")) is None


def test_description(tmp_path):
    with helper("description"):
        assert Path(description(CSVDataset(filepath=str(tmp_path / "x.csv")))["filepath"]) == (
            tmp_path / "x.csv"
        )
        con = "postgresql+psycopg://trees:s3cret@127.0.0.1:1/tables"
        table = description(SQLTableDataset(table_name="t", credentials={"con": con}))
        query = description(SQLQueryDataset(sql="SELECT 1", credentials={"con": con}))
        assert table["table_name"] == "t" and query["sql"] == "SELECT 1"
        assert "s3cret" not in repr(table) + repr(query)


def test_own_dataset_message(tmp_path):
    with helper("own_dataset_message"):
        dataset = TrainedModelDataset(str(tmp_path / "metrics.json"), str(tmp_path / "models"))
        with pytest.raises(DatasetError) as error:
            DataCatalog({"trained_model": dataset}).load("trained_model")
        message = own_dataset_message(error.value)
        assert message.startswith(
            f"No training run yet: {tmp_path / 'metrics.json'} has no version."
        )
        with pytest.raises(DatasetError) as other:
            DataCatalog({"x": JSONDataset(filepath=str(tmp_path / "none.json"))}).load("x")
        assert own_dataset_message(other.value) is None  # kedro-datasets' own: not ours


SAY_WHICH_RUNNER = """
from pathlib import Path
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.runner import ThreadRunner
from parallel_trees.kedro_internals import session_runner

class Seen:
    @hook_impl
    def before_pipeline_run(self):
        runner = session_runner()
        print(type(runner).__name__, runner._max_workers)

bootstrap_project(Path.cwd())
with KedroSession.create(Path.cwd()) as session:
    session._hook_manager.register(Seen())
    session.run(runner=ThreadRunner(max_workers=3))
"""


def test_session_runner(tmp_path):
    with helper("session_runner"):
        ran = subprocess.run(
            [sys.executable, "-c", SAY_WHICH_RUNNER],
            cwd=other_project(tmp_path / "other"),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert "ThreadRunner 3" in ran.stdout.splitlines()
    assert kedro_internals.session_runner() is None  # outside a session


def test_parameter_files(tmp_path):
    with helper("parameter_files"):
        shutil.copytree(PROJECT / "conf" / "base", tmp_path / "base")  # not a user's conf/local
        (tmp_path / "local").mkdir()
        (tmp_path / "local" / "parameters.yml").write_text("cv_folds: ${folds}\nfolds: 3\n")
        local, base = parameter_files(OmegaConfigLoader(str(tmp_path), **CONFIG_LOADER_ARGS))
        assert list(local.values()) == [{"cv_folds": "${folds}", "folds": 3}]  # as written
        (content,) = [c for path, c in base.items() if path.name == "parameters.yml"]
        assert "cv_folds" in content


def test_pool_size():
    with helper("pool_size"):
        wide = Pipeline([node(_same, "x", f"y{i}", name=f"n{i}") for i in range(5)])
        assert pool_size(KedroParallelRunner(max_workers=3), wide) == 3
        assert pool_size(SequentialRunner(), wide) == 1


class _Hooks:
    @hook_impl
    def before_node_run(self, node):
        return f"before {node.name}"


def test_project_hook_manager():
    with helper("project_hook_manager"):
        manager = project_hook_manager([_Hooks()])
        step = node(_same, "x", "y", name="step")
        assert manager.hook.before_node_run(
            node=step, catalog=None, inputs={}, is_async=False, run_id=None
        ) == ["before step"]


def test_task_hook_manager():
    with helper("task_hook_manager"):
        assert hasattr(task_hook_manager().hook, "before_node_run")


def test_suggest_resume(caplog):
    with helper("suggest_resume"):
        pipeline = Pipeline(
            [node(_same, "x", "y", name="first"), node(_same, "y", "z", name="then")]
        )
        catalog = DataCatalog({"x": MemoryDataset({"a": 1})})
        first, _ = pipeline.nodes
        with caplog.at_level(logging.WARNING):
            suggest_resume(SequentialRunner(), pipeline, {first}, catalog)
        assert '--from-nodes "first"' in caplog.text


def test_configure_like_forked(monkeypatch):
    with helper("configure_like_forked"), logging_taken_back():
        monkeypatch.setattr(project, "PACKAGE_NAME", None)  # as in a spawned worker
        configure_like_forked("parallel_trees", dict(project.LOGGING))
        assert project.PACKAGE_NAME is None  # hidden again from Kedro's Task
        assert [type(h).__name__ for h in project.settings.HOOKS][0] == "InputChecksHooks"


def test_disable_plugin_hooks():
    with helper("disable_plugin_hooks"):
        before = project.settings.DISABLE_HOOKS_FOR_PLUGINS
        try:
            disable_plugin_hooks("kedro-viz")
            assert "kedro-viz" in project.settings.DISABLE_HOOKS_FOR_PLUGINS
        finally:
            project.settings.set("DISABLE_HOOKS_FOR_PLUGINS", before)


def test_skip_data_manager():
    with helper("skip_data_manager"):
        before = {p.pid for p in multiprocessing.active_children()}
        runner = ParallelRunner(max_workers=2)
        assert runner._max_workers == 2
        assert {p.pid for p in multiprocessing.active_children()} == before  # none started
    with helper("PARALLEL_RUNNER_OVERRIDES"):
        for name in PARALLEL_RUNNER_OVERRIDES:
            assert callable(getattr(KedroParallelRunner, name)), name


def test_is_data_manager():
    with helper("is_data_manager"):
        before = {p.pid for p in multiprocessing.active_children()}
        runner = KedroParallelRunner(max_workers=2)  # Kedro's: starts its data manager
        try:
            started = [p for p in multiprocessing.active_children() if p.pid not in before]
            assert [is_data_manager(p.name) for p in started] == [True]
        finally:
            runner._manager.shutdown()


def test_no_replacing_warning(caplog):
    with helper("no_replacing_warning"):
        catalog = DataCatalog({"x": MemoryDataset(1)})
        with caplog.at_level(logging.INFO):
            catalog["x"] = 2
            assert caplog.records, "Kedro no longer warns when a dataset is replaced"
            caplog.clear()
            with no_replacing_warning():
                catalog["x"] = 3
        assert caplog.records == []
        assert catalog.load("x") == 3


def test_preview_types():
    with helper("TablePreview"):
        assert kedro_internals.TablePreview({"a": 1}) == {"a": 1}
        assert kedro_internals.PlotlyPreview({"a": 1}) == {"a": 1}


def test_every_helper_has_a_test():
    tested = {
        line.split('"')[1]
        for line in Path(__file__).read_text().splitlines()
        if "with helper(" in line
    }
    public = {
        name
        for name, value in vars(kedro_internals).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == kedro_internals.__name__
        and callable(value)
    }
    assert public - tested == set()
    assert PROJECT.is_dir()
