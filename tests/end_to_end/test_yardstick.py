"""End-to-end: the yardstick a user chooses, the baseline every model must beat, the panel,
and verdicts that hold up: ties, repeats, and the same scores under every runner."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.helpers.markers import starts_processes
from tests.helpers.project import ProjectCopy
from tests.helpers.runs import DASK, Shared

TRAINING = ["random_forest", "xgboost"]
NOISE = "csv_path=noise.csv,dataset=raw_data,target_column=label"


def noise_table(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """A table a model can learn nothing from: 75% of one class, features of pure noise."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(rows, 4)), columns=["a", "b", "c", "d"])
    return table.assign(label=np.where(np.arange(rows) % 4 == 0, "rare", "common"))


@pytest.fixture(scope="session")
@starts_processes
def noise(tmp_path_factory) -> dict[str, Shared]:
    """The noise table under the default metric (accuracy), in process; and under roc_auc,
    in process (SequentialRunner), under ParallelRunner and under DaskRunner, in one project."""
    project = ProjectCopy(tmp_path_factory.mktemp("noise") / "parallel-trees")
    noise_table().to_csv(project.root / "noise.csv", index=False)
    chosen = f"{NOISE},metric=roc_auc"
    return {
        "auto": Shared(project, project.in_process("run", "--params", NOISE)),
        "SequentialRunner": Shared(project, project.in_process("run", "--params", chosen)),
        "ParallelRunner": Shared(
            project, project.kedro("run", "--runner=ParallelRunner", "--params", chosen)
        ),
        "DaskRunner": Shared(
            project,
            project.kedro("run", DASK, "--runner-params", "n_workers=2", "--params", chosen),
        ),
    }


class TestATableNoModelCanLearn:
    @pytest.mark.parametrize("metric", ["auto", "SequentialRunner"])  # accuracy; roc_auc
    def test_each_model_is_reported_no_better_than_the_baseline(self, noise, metric):
        run, metrics = noise[metric].run, noise[metric].metrics
        for model in TRAINING:
            name = metrics["models"][model]["display_name"]
            assert re.search(rf"^{name} vs the baseline: .*: {name} is no better than always "
                             r"guessing 'common'", run.output, re.M), run.output  # fmt: skip
        assert all(r["beats_baseline"] is False for r in metrics["ranking"] if not r["baseline"])
        assert "No model is significantly better than always guessing 'common'." in run.output
        assert metrics["best"] in TRAINING  # predict still has a model: the best of them

    def test_the_suggestion_line_when_accuracy_was_not_chosen(self, noise):
        line = "Always guessing 'common' scores 0.75 accuracy on its own"
        assert line in noise["auto"].run.output
        assert line not in noise["SequentialRunner"].run.output  # roc_auc, chosen
        assert "--params metric=balanced_accuracy (or metric=roc_auc)" in noise["auto"].run.output

    def test_the_chosen_metric_ranks_and_words_and_the_baseline_is_at_a_half(self, noise):
        run, metrics = noise["SequentialRunner"].run, noise["SequentialRunner"].metrics
        assert metrics["comparison"]["metric"] == "roc_auc"
        assert "ROC AUC on noise.csv (" in run.output
        assert metrics["baseline"]["cv_scores"] == [0.5] * 5  # constant probabilities
        for record in metrics["comparison"]["comparisons"]:
            assert " CV ROC AUC" in record["cv"]["verdict"]
            assert record["held_out"]["test"] == "paired bootstrap of the held-out rows"

    def test_per_class_results_show_the_rare_class_missed(self, noise):
        metrics = noise["auto"].metrics
        best = metrics["models"][metrics["best"]]
        rare = next(c for c in best["per_class"] if c["class"] == "rare")
        assert rare["support"] == 12 and rare["recall"] < 0.5  # 48 held out, a quarter rare
        assert metrics["run"]["yardstick"]["positive_class"] == "rare"  # the rarer, for f1


class TestAChosenMetricUnderEveryRunner:
    @pytest.mark.parametrize("runner", ["ParallelRunner", "DaskRunner"])
    def test_roc_auc_gives_the_same_scores_tests_and_ranking(self, noise, runner):
        ours, reference = noise[runner].metrics, noise["SequentialRunner"].metrics
        assert ours["run"] == reference["run"]
        for model in TRAINING:
            for key in ("cv_scores", "cv_panel", "test_score", "test_panel", "per_class"):
                assert ours["models"][model][key] == reference["models"][model][key], key
        assert ours["comparison"] == reference["comparison"]
        assert ours["ranking"] == reference["ranking"]

    def test_the_comparison_chart_and_importance_follow_the_metric(self, noise):
        shared = noise["ParallelRunner"]
        chart = json.loads(shared.saved("data/08_reporting/model_comparison.json").read_text())
        assert chart["layout"]["title"]["text"].startswith("ROC AUC per model (higher is better)")
        assert chart["data"][-1]["name"] == "baseline (always 'common'), CV"
        importance = json.loads(
            shared.saved("data/08_reporting/feature_importance.json").read_text()
        )
        assert importance["layout"]["title"]["text"].startswith(
            "What each model learned: how much worse its ROC AUC gets when a column is "
            "shuffled<br><sup>on all 48 held-out rows; error bars: ± 1 std over 5 shuffles"
        )


def test_repeated_cv_scores_every_model_on_every_repeat(project):
    run = project.in_process("run", "--params", "cv_repeats=3")
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    assert metrics["run"]["cv_repeats"] == 3
    assert "(5-fold CV repeated 3 times on 120 training rows;" in run.output
    for record in [*metrics["models"].values(), metrics["baseline"]]:
        assert [f["fold"] for f in record["folds"]] == list(range(15))
    against_best = metrics["comparison"]["comparisons"][0]["cv"]
    assert against_best["test"] == "corrected resampled t-test"


def test_two_identical_models_share_a_rank_and_the_registrys_first_is_saved(project):
    """A run of its own, in a process of its own: it adds a twin of the forest to the source."""
    models_py = project.root / "src/parallel_trees/models.py"
    anchor = '    "xgboost": ModelSpec('
    twin = (
        '    "twin_forest": ModelSpec("Twin Forest", ensemble.RandomForestClassifier, '
        "ForestParams),\n"
    )
    models_py.write_text(models_py.read_text().replace(anchor, twin + anchor))
    parameters = project.root / "conf/base/parameters.yml"
    section = "\ntwin_forest:\n  n_estimators: ${n_estimators}\n  n_jobs: auto\n"
    parameters.write_text(parameters.read_text() + section)  # the forest's own defaults

    run = project.kedro("run")

    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    forest, twin = (metrics["models"][m] for m in ("random_forest", "twin_forest"))
    assert forest["cv_scores"] == twin["cv_scores"]
    places = {r["model"]: (r["rank"], r["tied"]) for r in metrics["ranking"]}
    assert places["random_forest"] == places["twin_forest"]
    assert places["random_forest"][1] is True
    assert metrics["best"] == "random_forest"  # first in the registry, whatever held out
    assert re.search(r"^\d= Random Forest +[\d.]+ +best \(tied: the first in the registry\)$",
                     run.output, re.M)  # fmt: skip
    assert re.search(r"^\d= Twin Forest ", run.output, re.M)
