"""DaskRunner's parts that need no cluster (the runs themselves: test_dask_runner.py)."""

import json

import pytest
from kedro.framework.project import LOGGING
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node
from kedro_datasets.json import JSONDataset

from parallel_trees.runners import DaskRunner, run_node


def describe(rows: list[int], label: str) -> tuple[int, dict]:
    return len(rows), {"label": label, "total": sum(rows)}


class TestRunNode:
    def test_returns_the_in_memory_outputs_and_saves_the_persisted_ones(self, tmp_path):
        report = tmp_path / "report.json"
        catalog = DataCatalog(
            {
                "rows": MemoryDataset(),
                "count": MemoryDataset(),
                "report": JSONDataset(filepath=str(report)),
                "params:label": MemoryDataset("iris"),
            }
        )
        step = node(describe, ["rows", "params:label"], ["count", "report"], name="describe")

        outputs = run_node(
            step, catalog, {"rows": [1, 2, 3]}, "parallel_trees", dict(LOGGING), None, False
        )

        assert outputs == {"count": 3}  # in memory: back to the runner, as Dask data
        assert json.loads(report.read_text()) == {"label": "iris", "total": 6}  # persisted

    def test_a_failing_node_raises_its_own_error(self):
        catalog = DataCatalog({"rows": MemoryDataset(), "params:label": MemoryDataset(7)})
        step = node(describe, ["rows", "params:label"], ["count", "report"], name="describe")
        with pytest.raises(TypeError, match="unsupported operand"):
            run_node(
                step, catalog, {"rows": [1, "a"]}, "parallel_trees", dict(LOGGING), None, False
            )


class TestDaskRunnerSettings:
    @pytest.mark.parametrize("n_workers", [0, -2])
    def test_a_local_cluster_needs_a_worker(self, n_workers):
        with pytest.raises(ValueError, match=f"n_workers = {n_workers}: a local cluster needs"):
            DaskRunner(n_workers=n_workers)
