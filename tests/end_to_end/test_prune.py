"""End-to-end: ``kedro prune`` on a copy with two training runs, then three predict runs.

Every run is in process (the default run, and predict: no worker processes).
"""

import os
import re

import pytest

from parallel_trees.housekeeping import megabytes
from tests.helpers.project import ProjectCopy, write_csv

METRICS = "data/08_reporting/metrics.json"
PREDICTIONS = "data/07_model_output/predictions.csv"


def _version_folders(project: ProjectCopy) -> dict[str, list[str]]:
    """Each dataset folder under data/ (``<layer>/<name>``): the names of its version folders."""
    return {
        str(folder.relative_to(project.root / "data")): sorted(v.name for v in folder.iterdir())
        for folder in (project.root / "data").glob("*/*")
        if folder.is_dir()
    }


def _bytes(project: ProjectCopy, version: str) -> int:
    """The bytes of the files that ``version`` saved, in every dataset."""
    files = (project.root / "data").glob(f"*/*/{version}/**/*")
    return sum(os.path.getsize(path) for path in files if path.is_file())


@pytest.fixture
def runs(project, iris) -> tuple[ProjectCopy, list[str], list[str]]:
    """The copy, its training runs' versions and its predict runs' versions, oldest first."""
    write_csv(project, "new.csv", iris[0].head(5))
    predict = ("run", "--pipelines=predict", "--params=predict_csv=new.csv")
    for args in [("run",)] * 2 + [predict] * 3:
        run = project.in_process(*args)
        assert run.returncode == 0, run.output
    training = [v.name for v in project.versions(METRICS)]
    predict = [v.name for v in project.versions(PREDICTIONS)]
    assert len(training) == 2 and len(predict) == 3
    return project, training, predict


def test_prune_lists_then_removes_all_but_the_newest_and_the_run_predict_uses(runs):
    project, (old, used), (first, *newest) = runs
    size = {version: megabytes(_bytes(project, version)) for version in (old, first)}
    freed = megabytes(_bytes(project, old) + _bytes(project, first))
    before = _version_folders(project)
    kept = f"the newest 2 and the training run predict uses ({used})"

    dry = project.in_process("prune", "--keep", "2")
    assert dry.returncode == 0, dry.output
    assert dry.output.splitlines() == [
        f"Would remove {old} ({size[old]})",
        f"Would remove {first} ({size[first]})",
        f"Would remove 2 versions, freeing {freed}; would keep {kept}.",
        "Nothing removed (a dry run): kedro prune --keep 2 --delete removes them.",
    ]
    assert _version_folders(project) == before

    pruned = project.in_process("prune", "--keep", "2", "--delete")
    assert pruned.returncode == 0, pruned.output
    assert pruned.output.splitlines() == [
        f"Removed {old} ({size[old]})",
        f"Removed {first} ({size[first]})",
        f"Removed 2 versions, freed {freed}; kept {kept}.",
    ]
    after = _version_folders(project)
    assert after.keys() == before.keys()  # every dataset's folder stays
    assert after["08_reporting/metrics.json"] == [used]
    assert after["06_models/xgboost.pkl"] == [used]
    assert after["07_model_output/predictions.csv"] == newest
    assert {v for versions in after.values() for v in versions} == {used, *newest}

    again = project.in_process("prune", "--keep", "2", "--delete")
    assert again.output == f"Nothing to remove: 3 versions, and kedro prune keeps {kept}.\n"
    predict = project.in_process("run", "--pipelines=predict", "--params=predict_csv=new.csv")
    assert re.search(rf"of the training run {used}, trained on ", predict.output), predict.output
