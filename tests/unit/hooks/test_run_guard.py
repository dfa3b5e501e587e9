import pickle
from concurrent.futures.process import BrokenProcessPool

import pytest
from kedro.io import DataCatalog, DatasetError, Version
from kedro.pipeline import Pipeline, node
from kedro_datasets.json import JSONDataset

from parallel_trees.datasets import CSVTableDataset
from parallel_trees.errors import DataError, UserError
from parallel_trees.hooks.run_guard import RunGuardHooks, _explain
from parallel_trees.kedro_internals import project_hook_manager
from parallel_trees.parameter_sources import ParameterSources
from parallel_trees.runners.supervision import RunStopped, Stop

KILLED = Stop(False, "a worker process (pid 7)", "was killed by SIGKILL")


class TestExplain:
    def test_bad_input_is_its_own_message(self):
        explained = _explain(DataError("cv_folds = 9 is more than ..."), None, {})
        assert (
            isinstance(explained, UserError) and str(explained) == "cv_folds = 9 is more than ..."
        )

    @pytest.mark.parametrize("across_processes", [False, True])
    def test_bad_input_met_by_a_dataset_is_its_own_message(self, tmp_path, across_processes):
        (tmp_path / "new.csv").write_text("")
        catalog = DataCatalog({"new_rows": CSVTableDataset(str(tmp_path / "new.csv"))})
        with pytest.raises(DatasetError) as error:
            catalog.load("new_rows")
        # ParallelRunner pickles a worker's exception: its __cause__ is lost.
        raised = pickle.loads(pickle.dumps(error.value)) if across_processes else error.value
        explained = _explain(raised, None, {})
        assert str(explained) == (
            f"{tmp_path / 'new.csv'} is empty: it needs a header row naming the columns, then rows."
        )

    def test_other_dataset_errors_keep_their_traceback(self):
        assert (
            _explain(
                DatasetError("x: Failed while loading data from dataset CSVDataset(...).\nboom"),
                None,
                {},
            )
            is None
        )

    def test_bad_input_ends_with_where_its_settings_are_set(self):
        sources = ParameterSources(
            {"test_size": 0.9}, [[("conf/local/parameters.yml", {"cv_folds": 9})]]
        )
        error = DataError("Too many.", settings=["cv_folds", "test_size"])
        assert _explain(error, None, {}, sources).message == (
            "Too many. cv_folds is set in conf/local/parameters.yml. test_size is set in --params."
        )

    def test_ctrl_c_exits_130(self):
        explained = _explain(RunStopped(Stop(True)), Stop(True), {"a": 3})
        assert str(explained) == "Run interrupted (Ctrl-C); nothing of it was kept."
        assert explained.exit_code == 130

    @pytest.mark.parametrize("error", [RunStopped(KILLED), BrokenProcessPool("gone")])
    def test_a_death_names_the_process_and_the_nodes_lost(self, error):
        explained = _explain(error, KILLED, {"b.train": 8, "a.train": 7})
        assert str(explained).startswith(
            "The run stopped: a worker process (pid 7) was killed by SIGKILL. "
            "Nodes lost: a.train (process 7), b.train (process 8). Nothing of this run was kept."
        )

    def test_a_broken_pool_the_watchdog_did_not_see_is_still_explained(self):
        explained = _explain(BrokenProcessPool("gone"), None, {})
        assert str(explained).startswith(
            "The run stopped: a worker process was killed. Nodes lost: none."
        )

    def test_other_errors_keep_their_traceback(self):
        assert _explain(ZeroDivisionError(), None, {}) is None


def _step(x):
    return x


def test_a_failed_run_deletes_what_it_saved_and_only_that(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = str(tmp_path / "metrics.json")
    old = JSONDataset(filepath=path, version=Version(None, "2026-01"))
    old.save({"run": 1})
    catalog = DataCatalog({"metrics": JSONDataset(filepath=path, version=Version(None, "2026-02"))})
    catalog.save("metrics", {"run": 2})
    pipeline = Pipeline([node(_step, "x", "metrics", name="step")])
    guard = RunGuardHooks()
    guard.before_pipeline_run({"run_id": "2026-02"})
    hooks = project_hook_manager([guard]).hook
    with pytest.raises(UserError, match="nothing of it was kept"):
        hooks.on_pipeline_error(
            error=RunStopped(Stop(True)), run_params={}, pipeline=pipeline, catalog=catalog
        )
    assert sorted(p.name for p in (tmp_path / "metrics.json").iterdir()) == ["2026-01"]
