"""End-to-end: a training run, what it prints and what it saves, under the real runners."""

import json
import os
import pickle
import re

import pytest

from parallel_trees.metrics import names
from parallel_trees.models import MODELS
from parallel_trees.pipelines.training.pipeline import FOLD_NODES
from parallel_trees.resources import available_cores
from parallel_trees.runners.handoff import shared_data_folders
from tests.helpers.console import imported
from tests.helpers.project import PROJECT
from tests.helpers.runs import SLOW
from tests.helpers.spans import most_at_once, overlap_in_two_processes
from tests.helpers.tables import IRIS_COLUMNS

TRAINING = ["random_forest", "xgboost"]


@pytest.fixture(scope="module")
def runs(slow_runs) -> dict:
    """The shared runs of slower nodes: ParallelRunner's, then SequentialRunner's."""
    return slow_runs | {
        "metrics": {kind: slow_runs[kind].metrics for kind in ("parallel", "sequential")}
    }


class TestParallelAndSequentialRuns:
    def test_both_succeed_and_print_the_results(self, runs):
        for kind in ("parallel", "sequential"):
            output = runs[kind].run.output
            assert re.search(r"^Random Forest Model Accuracy: 0\.\d+ ± 0\.\d+$", output, re.M)
            assert re.search(r"^XGBoost Model Accuracy: 0\.\d+ ± 0\.\d+$", output, re.M)
            assert "model          CV accuracy (mean ± std over folds)  held out" in output

    def test_the_parallel_run_deletes_its_shared_data_and_that_of_killed_runs(self, runs):
        assert shared_data_folders(runs["parallel"].run.pid) == []
        assert runs["swept"]

    def test_parallel_runner_trains_both_models_at_once_in_two_processes(self, runs):
        rf, xgb = (runs["metrics"]["parallel"]["models"][m]["timing"] for m in TRAINING)
        assert len(rf) == len(xgb) == FOLD_NODES + 1  # a span per training node
        assert len({s["pid"] for s in rf + xgb}) == len(MODELS)  # one process per worker
        assert overlap_in_two_processes(rf + xgb, rf + xgb)

    def test_kedro_viz_keeps_its_statistics_and_its_hooks_are_quiet_in_workers(self, runs):
        assert "Unable to create statistics" not in runs["parallel"].run.output
        # Written by kedro-viz's hook in `kedro run`, after the sequential run.
        stats = json.loads((runs["project"].root / ".viz" / "stats.json").read_text())
        assert stats["X_train"] == {"rows": 120, "columns": 4}

    def test_sequential_runner_trains_them_one_after_the_other(self, runs):
        rf, xgb = (runs["metrics"]["sequential"]["models"][m]["timing"] for m in TRAINING)
        assert len({s["pid"] for s in rf + xgb}) == 1
        assert most_at_once(rf + xgb) == 1  # no two spans overlap, of any model

    def test_timeline_chart_shows_overlapping_bars_only_for_the_parallel_run(self, runs):
        for kind, runner, overlapping in (
            ("parallel", "ParallelRunner", True),
            ("sequential", "SequentialRunner", False),
        ):
            chart = json.loads(runs[kind].saved("data/08_reporting/run_timeline.json").read_text())
            # A trace per model, a bar per node on its process's row.
            assert [bars["name"] for bars in chart["data"]] == ["Random Forest", "XGBoost"]
            rf, xgb = (
                [
                    {"pid": row, "started_at": start, "finished_at": start + length}
                    for row, start, length in zip(bars["y"], bars["base"], bars["x"], strict=True)
                ]
                for bars in chart["data"]
            )
            assert overlap_in_two_processes(rf + xgb, rf + xgb) is overlapping, runner
            assert (most_at_once(rf + xgb) > 1) is overlapping, runner
            assert chart["layout"]["title"]["text"].startswith(f"Training nodes under {runner}:")

    def test_scores_do_not_depend_on_the_runner(self, runs):
        parallel, sequential = runs["metrics"]["parallel"], runs["metrics"]["sequential"]
        assert parallel["run"] == sequential["run"]
        for model in TRAINING:
            for key in ("cv_scores", "cv_mean", "cv_std", "test_score", "cv_panel", "test_panel"):
                assert parallel["models"][model][key] == sequential["models"][model][key]
            hyperparameters = (
                {k: v for k, v in run["models"][model]["hyperparameters"].items() if k != "n_jobs"}
                for run in (parallel, sequential)
            )
            assert next(hyperparameters) == next(hyperparameters)
        timing = {"timing": parallel["baseline"]["timing"]}
        assert parallel["baseline"] == sequential["baseline"] | timing
        assert parallel["comparison"] == sequential["comparison"]
        assert parallel["ranking"] == sequential["ranking"]

    def test_n_jobs_auto_shares_the_cores_among_the_training_nodes_at_once(self, runs):
        cores = available_cores()
        # As many training nodes at once as the workers: one per model here.
        for runner, at_once in (("parallel", len(MODELS)), ("sequential", 1)):
            for model in TRAINING:
                record = runs["metrics"][runner]["models"][model]
                assert record["hyperparameters"]["n_jobs"] == max(1, cores // at_once)

    def test_metrics_hold_what_a_user_needs(self, runs):
        metrics = runs["metrics"]["parallel"]
        assert metrics["run"] == {
            "dataset": "iris",
            "data_source": None,
            "synthetic": None,
            "rows": 150,
            "train_rows": 120,
            "test_rows": 30,
            "classes": ["setosa", "versicolor", "virginica"],
            "target_column": "target",
            "feature_roles": {
                "numeric": IRIS_COLUMNS,
                "categorical": [],
                "many_levels": [],
                "excluded": {},
            },
            "yardstick": {
                "task": "classification",
                "metric": "accuracy",
                "chosen": False,
                "greater_is_better": True,
                "classes": 3,
                "positive": None,
                "positive_class": None,
                "majority": "setosa",
                "guess": "'setosa'",
            },
            "random_state": 21,
            "cv_folds": 5,
            "cv_repeats": 1,
            "cv_shuffle": True,
            "test_size": 0.2,
            "tuning": {"trials": 0, "inner_folds": 3, "progress_every": 10},
            "left_out": {},
        }
        for model in TRAINING:
            record = metrics["models"][model]
            assert record["display_name"] == MODELS[model].display_name
            assert len(record["cv_scores"]) == 5
            assert 0.8 <= record["cv_mean"] <= 1 and 0 <= record["cv_std"] < 0.2
            assert 0.8 <= record["test_score"] <= 1
            assert (
                set(record["test_panel"]) == set(record["cv_panel"]) == set(names("classification"))
            )
            assert record["hyperparameters"]["n_estimators"] == 100
            assert record["hyperparameters"]["random_state"] == 21

    def test_an_untuned_runs_records_hold_no_search(self, runs):
        for model in TRAINING:
            record = runs["metrics"]["parallel"]["models"][model]
            assert record["untuned_cv_scores"] is None and record["search"] is None
            assert [f["fold"] for f in record["folds"]] == list(range(5))
            for fold in record["folds"]:
                assert fold["score"] == fold["untuned_score"]
                assert not {"best_params", "best_inner_score", "trials", "importance"} & set(fold)
            assert "search" not in record["hyperparameters"]

    def test_each_model_is_tested_against_the_best_and_the_baseline(self, runs):
        metrics = runs["metrics"]["parallel"]
        assert list(metrics) == ["run", "models", "baseline", "comparison", "ranking", "best"]
        against_best, *against_baseline = metrics["comparison"]["comparisons"]
        assert set(against_best["models"]) == set(TRAINING)
        assert [c["models"] for c in against_baseline] == [[m, "baseline"] for m in TRAINING]
        for record in metrics["comparison"]["comparisons"]:
            for test in (record["cv"], record["held_out"]):
                assert 0 <= test["p_value"] <= test["p_adjusted"] <= 1
        cv = against_best["cv"]
        assert cv["ci_low"] <= cv["difference"] <= cv["ci_high"]
        output = runs["parallel"].run.output
        assert re.search(
            r"^(Random Forest vs XGBoost|XGBoost vs Random Forest): [+-]0\.\d{3} CV accuracy, "
            r"95% interval \[[+-]0\.\d\d, [+-]0\.\d\d\], p = [\d.e-]+ \(Holm: [\d.e-]+\): ",
            output,
            re.M,
        )
        for record in metrics["comparison"]["comparisons"]:
            assert record["cv"]["verdict"] in output and record["held_out"]["verdict"] in output
        ranked = [r["model"] for r in metrics["ranking"]]
        assert ranked == [*against_best["models"], "baseline"] and metrics["best"] == ranked[0]
        assert (
            "Ranking by CV accuracy (higher is better; Holm-adjusted p, significance level 0.05):"
            in output
        )

    def test_held_out_predictions_are_saved_beside_the_labels(self, runs):
        table = runs["sequential"].saved("data/07_model_output/test_predictions.csv")
        lines = table.read_text().splitlines()
        assert lines[0] == "row,target,random_forest,xgboost"
        assert len(lines) == 1 + 30
        accuracy = runs["metrics"]["sequential"]["models"]["xgboost"]["test_score"]
        rows = [line.split(",") for line in lines[1:]]
        assert sum(r[1] == r[3] for r in rows) / 30 == pytest.approx(accuracy)

    def test_a_second_run_keeps_the_first_runs_results(self, runs):
        project = runs["project"]
        metrics = project.versions("data/08_reporting/metrics.json")
        assert [m.name for m in metrics] == [runs[k].version for k in ("parallel", "sequential")]
        assert (
            runs["parallel"].saved("data/08_reporting/metrics.json").read_bytes()
            == (runs["first_bytes"])
        )
        for model in TRAINING:
            versions = project.versions(f"data/06_models/{model}.pkl")
            assert [v.name for v in versions] == [m.name for m in metrics]

    def test_saved_models_are_the_fitted_estimators(self, runs):
        with runs["sequential"].saved("data/06_models/xgboost.pkl").open("rb") as f:
            model = pickle.load(f)  # our own file, just written
        # The whole pipeline: it predicts from the table's own columns (as one array).
        steps = [type(step).__name__ for step in model]
        assert steps == ["ColumnTransformer", "FunctionTransformer", "XGBClassifier"]
        assert model[-1].get_params()["n_estimators"] == 100
        assert model.feature_names_in_.tolist() == IRIS_COLUMNS

    def test_telemetry_stays_off_with_only_the_committed_opt_out(self, runs):
        # With consent, kedro-telemetry would add a project_id to pyproject.toml.
        root = runs["project"].root
        assert "project_id" not in (root / "pyproject.toml").read_text()
        assert (root / ".telemetry").read_text().strip() == "consent: false"

    def test_an_untracked_untuned_run_imports_neither_mlflow_nor_optuna_and_makes_no_store(
        self, runs
    ):
        output = runs["parallel"].run.output
        assert imported(output, "xgboost")  # every process lists its imports
        assert not imported(output, "mlflow")
        assert not imported(output, "optuna")
        root = runs["project"].root
        assert not (root / "mlflow.db").exists() and not (root / "mlruns").exists()


class TestTheDefaultRun:
    """The README's ``kedro run --runner=ParallelRunner``, in an 80-column terminal."""

    def test_it_prints_the_readmes_untuned_scores_and_ranking(self, iris_parallel):
        lines = iris_parallel.run.output.splitlines()
        assert "Random Forest Model Accuracy: 0.967 ± 0.049" in lines
        assert "XGBoost Model Accuracy: 0.942 ± 0.042" in lines
        assert [(r["model"], r["versus_best"]) for r in iris_parallel.metrics["ranking"]] == [
            ("random_forest", "best"),
            ("xgboost", "not significantly worse"),
            ("baseline", "baseline"),
        ]
        output = iris_parallel.run.output
        assert "Tuned " not in output and "Tuning " not in output

    def test_it_fits_a_screen_and_ends_with_the_ranking(self, iris_parallel):
        output = iris_parallel.run.output
        lines = output.splitlines()
        assert len(lines) <= 50, output
        assert lines[-4] == (
            "Ranking by CV accuracy (higher is better; Holm-adjusted p, significance level 0.05):"
        )
        assert [line[:3] for line in lines[-3:]] == ["1. ", "2. ", "3. "]
        assert "Loading data from" not in output

    def test_it_says_what_it_does_before_the_results(self, iris_parallel):
        output = iris_parallel.run.output
        lines = output.splitlines()
        # Kedro's pool has a worker per CPU; 12 training nodes could run at once.
        at_once = min(len(TRAINING) * (FOLD_NODES + 1), os.cpu_count())
        assert lines[0] == (
            f"ParallelRunner: {available_cores()} core(s), {at_once} training node(s) at once, "
            f"n_jobs auto = {max(1, available_cores() // at_once)} thread(s) each"
        )
        assert "Data: 150 rows, 4 feature columns, 3 classes; 120 to train on, 30 held out" in lines
        for model in ("Random Forest", "XGBoost"):
            trained = (
                rf"Trained {model}: 5-fold CV and a fit on all training rows, "
                rf"\d+\.\d s of CPU in {FOLD_NODES + 1} nodes"
            )
            assert any(re.fullmatch(trained, line) for line in lines), output

    def test_the_full_log_of_every_process_goes_to_info_log(self, iris_parallel):
        log = (iris_parallel.project.root / "info.log").read_text()
        assert "Loading data from X_train" in log
        # 17 shared, 9 per model, XGBoost's export, the baseline.
        assert "Completed 37 out of 37 tasks" in log
        assert len({line.split(" - ")[1] for line in log.splitlines() if " - " in line}) >= 2

    def test_the_printed_report_is_saved_as_report_txt(self, iris_parallel):
        report = iris_parallel.saved("data/08_reporting/report.txt").read_text()
        assert report.startswith("Accuracy on iris (5-fold CV on 120 training rows;")
        assert iris_parallel.run.output.endswith(report)


@pytest.mark.processes
def test_tutorial_env_prints_the_tutorials_numbers(project):
    """Its own run: the tutorial's environment, as the README gives the command."""
    run = project.kedro("run", "--env", "tutorial", "--runner=ParallelRunner")
    assert run.returncode == 0, run.output
    lines = run.output.splitlines()
    assert "Random Forest Model Accuracy: 0.96 ± 0.025" in lines
    assert "XGBoost Model Accuracy: 0.967 ± 0.021" in lines
    (metrics,) = project.metrics()
    assert metrics["run"]["train_rows"] == 150 and metrics["run"]["test_rows"] == 0
    assert all(m["test_score"] is None for m in metrics["models"].values())
    assert re.search(r"^Random Forest +0\.960 ± 0\.025 +n/a$", run.output, re.M)
    (confusion,) = project.versions("data/08_reporting/confusion_matrix.json")
    chart = json.loads((confusion / "confusion_matrix.json").read_text())
    assert chart["data"] == []  # nothing held out: an empty chart that says so
    assert "test_size is 0" in chart["layout"]["title"]["text"]


def test_params_override_shared_and_per_model_knobs(project):
    run = project.in_process(
        "run",
        "--params",
        "dataset=wine,test_size=0.3,cv_folds=3,n_estimators=7,"
        "random_forest.max_depth=3,xgboost.n_estimators=4,xgboost.n_jobs=3",
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    assert len(metrics["run"].pop("feature_roles")["numeric"]) == 13
    assert metrics["run"] == {
        "dataset": "wine",
        "data_source": None,
        "synthetic": None,
        "rows": 178,
        "train_rows": 124,
        "test_rows": 54,  # ceil(0.3 * 178), as train_test_split counts
        "classes": ["class_0", "class_1", "class_2"],
        "target_column": "target",
        "yardstick": {
            "task": "classification",
            "metric": "accuracy",
            "chosen": False,
            "greater_is_better": True,
            "classes": 3,
            "positive": None,
            "positive_class": None,
            "majority": "class_1",
            "guess": "'class_1'",
        },
        "random_state": 21,
        "cv_folds": 3,
        "cv_repeats": 1,
        "cv_shuffle": True,
        "test_size": 0.3,
        "tuning": {"trials": 0, "inner_folds": 3, "progress_every": 10},
        "left_out": {},
    }
    forest, booster = (metrics["models"][m] for m in TRAINING)
    assert forest["hyperparameters"]["n_estimators"] == 7  # the shared knob
    assert forest["hyperparameters"]["max_depth"] == 3
    assert booster["hyperparameters"]["n_estimators"] == 4  # its own wins
    assert booster["hyperparameters"]["n_jobs"] == 3  # an explicit n_jobs wins over auto
    assert forest["hyperparameters"]["n_jobs"] == available_cores()  # auto, one at a time
    assert len(forest["cv_scores"]) == len(booster["cv_scores"]) == 3


def test_synthetic_dataset_is_sized_by_parameters(project):
    run = project.in_process(
        "run",
        "--params",
        "dataset=synthetic,synthetic.n_samples=400,synthetic.n_features=8,"
        "synthetic.n_informative=4,synthetic.n_classes=4",
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    assert metrics["run"]["rows"] == 400 and metrics["run"]["test_rows"] == 80
    assert metrics["run"]["synthetic"] == {
        "n_samples": 400,
        "n_features": 8,
        "n_informative": 4,
        "n_classes": 4,
        "noise": 10.0,  # make_regression's, unused by classes
    }


@pytest.mark.processes
def test_a_third_model_takes_one_registry_line_and_one_section(project):
    """Its own run, in a process of its own: it adds a model to the copy's source."""
    models_py = project.root / "src/parallel_trees/models.py"
    source = models_py.read_text()
    # docs/architecture.md's example, as it stands: one line in MODELS, one section.
    page = (PROJECT / "docs/architecture.md").read_text().split("\n## Adding a model\n")[1]
    (registration,) = re.findall(r"^```python\n(.*?)^```$", page, re.M | re.S)
    (section,) = re.findall(r"^```yaml\n(.*?)^```$", page, re.M | re.S)
    assert registration.startswith('    "extra_trees": ModelSpec(')
    anchor = '    "xgboost": ModelSpec('
    assert anchor in source
    models_py.write_text(source.replace(anchor, registration + anchor))
    parameters = project.root / "conf/base/parameters.yml"
    parameters.write_text(parameters.read_text() + "\n" + section)

    run = project.kedro(
        "run", "--runner=ParallelRunner", "--runner-params", "max_workers=3", "--params", SLOW
    )

    assert run.returncode == 0, run.output
    assert "Extra Trees Model Accuracy: " in run.output
    (metrics,) = project.metrics()
    assert list(metrics["models"]) == ["random_forest", "extra_trees", "xgboost"]
    assert metrics["models"]["extra_trees"]["estimator"] == "ExtraTreesClassifier"
    assert project.versions("data/06_models/extra_trees.pkl")
    # Their 18 training nodes spread over the 3 workers, more than one at a time.
    # (Which nodes meet is the pool's order and the nodes' tenths of a second:
    # under spawn, CI saw no instant with three at once.)
    spans = [s for m in metrics["models"].values() for s in m["timing"]]
    assert len(spans) == 3 * (FOLD_NODES + 1)
    assert len({s["pid"] for s in spans}) == 3
    assert most_at_once(spans) >= 2
    # ... and each was compared with the best and with the baseline, the ranking covering all.
    compared = [(tuple(c["models"]), c["against"]) for c in metrics["comparison"]["comparisons"]]
    best = metrics["best"]
    assert sorted(compared) == sorted(
        [((best, m), "best") for m in metrics["models"] if m != best]
        + [((m, "baseline"), "baseline") for m in metrics["models"]]
    )
    ranked = sorted(r["model"] for r in metrics["ranking"])
    assert ranked == sorted([*metrics["models"], "baseline"])
    assert sum(" vs " in line for line in run.output.splitlines()) == 5

    # It has no regressor: a regression leaves it out, saying so, and judges the other two.
    regression = project.kedro("run", "--params", "dataset=diabetes")
    assert regression.returncode == 0, regression.output
    why = "Extra Trees (extra_trees) has no regression estimator (its ModelSpec's regressor)"
    assert regression.output.count(f"Left out of this run: {why}") == 2  # the log, the report
    metrics = project.metrics()[-1]
    assert list(metrics["models"]) == ["random_forest", "xgboost"]
    assert metrics["run"]["left_out"] == {"extra_trees": why}
    assert "extra_trees" not in [r["model"] for r in metrics["ranking"]]


def test_a_clearly_better_model_is_called_better(project):
    # Built so that one model is clearly better: 3-class make_classification
    # data whose classes sit on clusters in 10 informative dimensions, with
    # the forest cut down to stumps (max_depth=1): each of its trees sees one
    # feature once, which cannot carve out those clusters, while XGBoost's
    # depth-6 trees can. On 2000 rows that is about 0.68 vs 0.90 accuracy.
    run = project.in_process(
        "run", "--params", "dataset=synthetic,synthetic.n_samples=2000,random_forest.max_depth=1"
    )
    assert run.returncode == 0, run.output
    (metrics,) = project.metrics()
    against_best = metrics["comparison"]["comparisons"][0]
    assert against_best["models"] == ["xgboost", "random_forest"]
    assert against_best["cv"]["significant"] and against_best["held_out"]["significant"]
    assert against_best["cv"]["ci_low"] > 0
    assert "CV accuracy" in against_best["cv"]["verdict"]
    assert against_best["cv"]["verdict"].endswith(
        ": Random Forest is significantly worse than the best"
    )
    assert against_best["held_out"]["verdict"].endswith(": XGBoost is significantly better")
    for test in ("cv", "held_out"):
        assert against_best[test]["verdict"] in run.output
    assert [(r["model"], r["versus_best"]) for r in metrics["ranking"]] == [
        ("xgboost", "best"),
        ("random_forest", "worse"),
        ("baseline", "baseline"),
    ]


class TestChosenNodes:
    def test_the_suggested_command_runs(self, project):
        refused = project.in_process("run", "--pipelines", "scoring")
        suggestion = re.search(r"Run them too: kedro run (--to-nodes=\S+)", refused.output)
        assert suggestion, refused.output
        run = project.in_process("run", suggestion[1])
        assert run.returncode == 0, run.output
        (metrics,) = project.metrics()
        assert set(metrics["models"]) == set(TRAINING)
        assert not project.versions("data/08_reporting/report.txt")  # reporting: not asked for

    @pytest.mark.parametrize(
        "options", [["--pipelines", "data_preparation"], ["--tags", "data_preparation"]]
    )
    def test_data_preparation_runs_alone(self, project, options):
        run = project.in_process("run", *options)
        assert run.returncode == 0, run.output
        assert "Data: 150 rows, 4 feature columns, 3 classes" in run.output


@pytest.mark.processes
def test_max_workers_1_trains_one_node_at_a_time_on_every_core(project):
    """Its own run: a runner option that changes how many nodes train at once."""
    cores = available_cores()
    run = project.kedro("run", "--runner=ParallelRunner", "--runner-params", "max_workers=1")
    assert run.returncode == 0, run.output
    assert run.output.splitlines()[0] == (
        f"ParallelRunner: {cores} core(s), 1 training node(s) at once, "
        f"n_jobs auto = {cores} thread(s) each"
    )
    (metrics,) = project.metrics()
    for model in TRAINING:
        assert metrics["models"][model]["hyperparameters"]["n_jobs"] == cores
