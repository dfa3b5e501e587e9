"""End-to-end: tuning in nested cross-validation, under every runner, and what a tuned run
says it found: the report, metrics.json, the chart.

The tuned runs are the shared ``tuned_runs`` (iris, a few trials per search), so that
the file runs in a minute on a busy 2-core machine.
"""

import json
import pickle
import re

import pytest
import yaml

from tests.helpers.console import imported, without_import_times
from tests.helpers.processes import (
    PROMPT,
    SEARCHING_NODE,
    ctrl_c,
    kill_worker,
    lost_with,
    signalled_run,
)
from tests.helpers.runs import TRIALS

TRAINING = ["random_forest", "xgboost"]
# Searches of 1000 trials each take minutes: a run that ends within seconds of a fault did not wait.
LONG_SEARCHES = "tuning.trials=1000"


def without_threads(hyperparameters: dict) -> dict:
    """The hyperparameters but ``n_jobs``: ``n_jobs: auto`` is each runner's share of the cores."""
    return {key: value for key, value in hyperparameters.items() if key != "n_jobs"}


def _as_fold(search: dict) -> dict:
    """The last search's record with a fold's key names."""
    return {
        "trials": search["trials"],
        "best_params": search["best_params"],
        "best_inner_score": search["best_score"],
        "importance": search["importance"],
    }


class TestTheSameTrialsUnderEveryRunner:
    def test_trials_best_parameters_and_scores_are_identical(self, tuned_runs):
        reference = tuned_runs["SequentialRunner"].metrics
        for runner in ("ParallelRunner", "DaskRunner"):
            metrics = tuned_runs[runner].metrics
            assert metrics["run"] == reference["run"]
            for model in TRAINING:
                ours, theirs = metrics["models"][model], reference["models"][model]
                for key in ("folds", "search", "cv_scores", "untuned_cv_scores", "test_score"):
                    assert ours[key] == theirs[key], (runner, model, key)
                assert without_threads(ours["hyperparameters"]) == without_threads(
                    theirs["hyperparameters"]
                )
            assert metrics["comparison"] == reference["comparison"], runner
            assert metrics["ranking"] == reference["ranking"], runner

    def test_each_outer_fold_records_its_own_search(self, tuned_runs):
        shared = tuned_runs["ParallelRunner"]
        parameters = yaml.safe_load((shared.project.root / "conf/base/parameters.yml").read_text())
        for model in TRAINING:
            record = shared.metrics["models"][model]
            space = set(parameters[model]["search"])
            assert record["untuned_cv_scores"] == [f["untuned_score"] for f in record["folds"]]
            assert record["cv_scores"] == [f["score"] for f in record["folds"]]
            searches = [*record["folds"], _as_fold(record["search"])]
            for search in searches:
                trials = search["trials"]
                assert len(trials) == TRIALS
                assert {t["state"] for t in trials} <= {"complete", "pruned"}
                assert all(set(t["params"]) == space for t in trials)
                assert all(set(t) == {"params", "score", "state"} for t in trials)
                complete = [t for t in trials if t["state"] == "complete"]
                # Judged by log loss: each search keeps its lowest inner loss.
                lowest = min(complete, key=lambda t: t["score"])
                assert search["best_inner_score"] == lowest["score"]
                assert search["best_params"] == lowest["params"]
                assert set(search["importance"]) <= space
            # Outer folds disagree on the best setting: each search is its own.
            assert len({str(f["best_params"]) for f in record["folds"]}) > 1
        # Lower is better in the ranking too.
        means = [r["cv_mean"] for r in shared.metrics["ranking"]]
        assert means == sorted(means) and shared.metrics["run"]["yardstick"]["metric"] == "log_loss"

    def test_the_saved_model_has_the_last_searchs_best_setting(self, tuned_runs):
        shared = tuned_runs["SequentialRunner"]
        record = shared.metrics["models"]["random_forest"]
        best = record["search"]["best_params"]
        assert record["hyperparameters"].items() >= best.items()
        with shared.saved("data/06_models/random_forest.pkl").open("rb") as f:
            model = pickle.load(f)  # our own file, just written
        assert model[-1].get_params().items() >= best.items()

    def test_progress_shows_every_search_trial_by_trial_in_whole_lines(self, tuned_runs):
        labels = {
            f"{name}, {part}"
            for name in ("Random Forest", "XGBoost")
            for part in [f"outer fold {k}/5" for k in range(1, 6)] + ["all training rows"]
        }
        progress = re.compile(
            rf"Tuning (?P<label>.+): (?P<done>\d+)/{TRIALS} trials, "
            r"best inner log loss so far (\d\.\d{3}|n/a) \(\d+ s\)"
        )
        for runner, shared in tuned_runs.items():
            # (Not the report's own "Tuning by nested CV..." and "Tuning did not change...".)
            output = shared.run.output
            lines = [line for line in output.splitlines() if " trials, best inner " in line]
            matches = [progress.fullmatch(line) for line in lines]
            assert all(matches), (runner, lines)
            shown = {(m["label"], int(m["done"])) for m in matches}
            # Every trial but the last: the last is told by the "Tuned ..." line.
            assert shown == {(label, done) for label in labels for done in range(1, TRIALS)}
            assert len(lines) == len(shown), runner  # each once

    def test_optuna_is_imported_where_the_searches_run(self, tuned_runs):
        assert imported(tuned_runs["ParallelRunner"].run.output, "optuna")


class TestWhatATunedRunSays:
    """The report, metrics.json and the chart of the shared tuned ParallelRunner run."""

    def test_the_report_shows_each_folds_best_setting_and_whether_the_verdict_changed(
        self, tuned_runs
    ):
        shared = tuned_runs["ParallelRunner"]
        metrics = shared.metrics
        report = shared.saved("data/08_reporting/report.txt").read_text()
        # Printed as saved; this run is tracked, so MLflow's own lines come after it.
        output = without_import_times(shared.run.output)
        assert report in output
        after = output.split(report, 1)[1].splitlines()
        assert after and all(line.startswith("Logged ") for line in after), after
        lines = report.splitlines()
        start = lines.index(
            f"Tuning by nested CV ({TRIALS} trials per search, 3-fold inner CV), "
            "each outer fold's best setting:"
        )
        for model in metrics["models"].values():
            table = lines.index(f"{model['display_name']}:", start)
            header, *folds = lines[table + 1 : table + 1 + 1 + 5]
            assert header.split()[:5] == ["fold", "log_loss", "untuned", "best", "inner"]
            assert header.split()[5:] == list(model["search"]["best_params"])  # one column each
            for fold, line in zip(model["folds"], folds, strict=True):
                assert line.split()[:3] == [
                    str(fold["fold"] + 1),
                    f"{fold['score']:.3f}",
                    f"{fold['untuned_score']:.3f}",
                ]
            assert lines[table + 7].split()[0] == "mean" and lines[table + 8].split()[0] == "saved"
        verdict = metrics["comparison"]["untuned"]["verdict"]
        assert lines[-1] == verdict
        assert verdict.startswith(("Tuning changed the verdict: ", "Tuning did not change"))

    def test_metrics_hold_every_search_and_the_untuned_verdict(self, tuned_runs):
        metrics = tuned_runs["ParallelRunner"].metrics
        assert metrics["run"]["tuning"] == {"trials": TRIALS, "inner_folds": 3, "progress_every": 0}
        for model in metrics["models"].values():
            assert [f["fold"] for f in model["folds"]] == [0, 1, 2, 3, 4]
            for search in [*model["folds"], model["search"]]:
                assert len(search["trials"]) == TRIALS
        untuned = metrics["comparison"]["untuned"]
        assert {r["model"] for r in untuned["ranking"]} == {*metrics["models"], "baseline"}
        # The same tests as the tuned verdict's, on the untuned scores: vs the best, the baseline.
        against_best, *against_baseline = untuned["comparisons"]
        assert against_best["against"] == "best" and len(against_baseline) == 2
        assert against_best["cv"]["verdict"].endswith("worse than the best")
        assert against_best["held_out"] is None
        assert untuned["changed"] is untuned["verdict"].startswith("Tuning changed")

    def test_the_search_chart_draws_every_search_of_both_models(self, tuned_runs):
        shared = tuned_runs["ParallelRunner"]
        metrics = shared.metrics
        chart = json.loads(shared.saved("data/08_reporting/hyperparameter_search.json").read_text())
        assert chart["layout"]["title"]["text"].startswith(
            f"Hyperparameter search: {TRIALS} trials per search, 3-fold inner CV"
        )
        lines = [t for t in chart["data"] if t.get("mode") == "lines"]
        assert {t["legendgroup"] for t in lines} == set(metrics["models"])
        assert len(lines) == 2 * 6  # two models, five outer folds and the last search each
        bars = [t for t in chart["data"] if t["type"] == "bar"]
        assert len(bars) == 2
        assert set(bars[0]["y"]) == set(metrics["models"]["random_forest"]["search"]["best_params"])


def test_tuning_frees_a_model_held_back_by_a_bad_default(project):
    """Two runs of their own (in process): untuned, then tuned, on a table that needs it."""
    # The forest cut down to stumps (max_depth=1) on 3 classes clustered in 10
    # informative dimensions: significantly worse than XGBoost untuned (about 0.64
    # vs 0.87). Its search space (max_depth from 2) frees it: 0.87 vs 0.89, tuned.
    params = "dataset=synthetic,synthetic.n_samples=600,random_forest.max_depth=1"
    # One thread a model: on 600 rows, a second one costs more than it gives.
    params += ",random_forest.n_jobs=1,xgboost.n_jobs=1"
    runs = [
        project.in_process("run", "--params", params),
        project.in_process("run", "--params", f"{params},tuning.trials=8"),
    ]
    assert [run.returncode for run in runs] == [0, 0], [run.output for run in runs]
    untuned, tuned = project.metrics()
    assert [(r["model"], r["versus_best"]) for r in untuned["ranking"]] == [
        ("xgboost", "best"),
        ("random_forest", "worse"),
        ("baseline", "baseline"),
    ]
    forest = {r["model"]: r for r in tuned["ranking"]}["random_forest"]
    assert forest["versus_best"] in ("best", "not significantly worse")
    # The tuned run scores the stumps too, on the same folds: the untuned run's scores.
    record = tuned["models"]["random_forest"]
    assert record["untuned_cv_scores"] == untuned["models"]["random_forest"]["cv_scores"]
    assert record["cv_mean"] > untuned["models"]["random_forest"]["cv_mean"]
    assert all(fold["best_params"]["max_depth"] > 1 for fold in record["folds"])


@pytest.mark.processes
class TestFaultsWhileTuning:
    """A tuned run ends as quickly as an untuned one: no search is waited for.

    Its workers start as the session's do (KEDRO_MP_CONTEXT): CI runs this under each
    start method (test_faults.py runs the untuned faults under all three).
    """

    @staticmethod
    def faulted(kept, journals, send) -> dict:
        """A run of long searches, ``send`` once a search runs, its untuned fit done."""
        return signalled_run(
            kept.project, journals, send, params=LONG_SEARCHES, node=SEARCHING_NODE, wait=1
        )

    def test_a_killed_worker_ends_the_run_at_once_naming_its_node(self, kept, tmp_path):
        run = self.faulted(kept, tmp_path, kill_worker)
        assert run["code"] == 1, run["output"]
        assert re.search(
            rf"^Error: The run stopped: a worker process \(pid {run['pid']}\) was killed by "
            rf"SIGKILL\. Nodes lost: {lost_with(re.escape(run['node']), run['pid'])}\. "
            "Nothing of this run was kept.",
            run["output"],
            re.M,
        ), run["output"]
        assert run["ended"] < PROMPT, run["output"]
        assert run["left"] == []
        assert "Traceback" not in run["output"]
        kept.assert_nothing_kept()

    def test_ctrl_c_stops_every_process_and_keeps_nothing(self, kept, tmp_path):
        run = self.faulted(kept, tmp_path, ctrl_c)
        assert run["code"] == 130, run["output"]
        assert "Error: Run interrupted (Ctrl-C); nothing of it was kept." in run["output"]
        assert "Traceback" not in run["output"] and "KeyboardInterrupt" not in run["output"]
        assert run["ended"] < PROMPT, run["output"]
        assert run["left"] == []
        kept.assert_nothing_kept()
