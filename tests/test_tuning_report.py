"""What a tuned run says it found, through the real CLI: the report, metrics.json, the chart."""

import json

import pytest

TRIALS = 6  # small: the run stays quick on a loaded machine


@pytest.fixture(scope="module")
def tuned(module_project):
    """One ParallelRunner run of the project with tuning on."""
    run = module_project.kedro(
        "run", "--runner=ParallelRunner", "--params", f"tuning.trials={TRIALS}"
    )
    assert run.returncode == 0, run.output
    (metrics,) = module_project.metrics()
    return module_project, run, metrics


def test_the_report_shows_each_folds_best_setting_and_whether_the_verdict_changed(tuned):
    project, run, metrics = tuned
    (version,) = project.versions("data/08_reporting/report.txt")
    report = (version / "report.txt").read_text()
    assert run.output.endswith(report)  # printed as saved
    lines = report.splitlines()
    start = lines.index(
        f"Tuning by nested CV ({TRIALS} trials per search, 3-fold inner CV), "
        "each outer fold's best setting:"
    )
    for model in metrics["models"].values():
        table = lines.index(f"{model['display_name']}:", start)
        header, *folds = lines[table + 1 : table + 1 + 1 + 5]
        assert header.split()[:5] == ["fold", "accuracy", "untuned", "best", "inner"]
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


def test_metrics_hold_every_search_and_the_untuned_verdict(tuned):
    _, _, metrics = tuned
    assert metrics["run"]["tuning"] == {"trials": TRIALS, "inner_folds": 3, "progress_every": 10}
    for model in metrics["models"].values():
        assert [f["fold"] for f in model["folds"]] == [0, 1, 2, 3, 4]
        for search in [*model["folds"], model["search"]]:
            assert len(search["trials"]) == TRIALS
            assert all(set(t) == {"params", "score", "state"} for t in search["trials"])
        assert model["untuned_cv_scores"] == [f["untuned_score"] for f in model["folds"]]
    untuned = metrics["comparison"]["untuned"]
    assert {r["model"] for r in untuned["ranking"]} == set(metrics["models"])
    # The same test as the tuned verdict's, on the untuned scores.
    (pair,) = untuned["pairs"]
    assert pair["cv"]["verdict"].endswith(
        ("significantly better", "no significant difference", "cannot be tested")
    )
    assert untuned["changed"] is untuned["verdict"].startswith("Tuning changed")


def test_the_search_chart_draws_every_search_of_both_models(tuned):
    project, _, metrics = tuned
    (version,) = project.versions("data/08_reporting/hyperparameter_search.json")
    chart = json.loads((version / "hyperparameter_search.json").read_text())
    assert chart["layout"]["title"]["text"].startswith(
        f"Hyperparameter search: {TRIALS} trials per search, 3-fold inner CV"
    )
    lines = [t for t in chart["data"] if t.get("mode") == "lines"]
    assert {t["legendgroup"] for t in lines} == set(metrics["models"])
    assert len(lines) == 2 * 6  # two models, five outer folds and the last search each
    bars = [t for t in chart["data"] if t["type"] == "bar"]
    assert len(bars) == 2
    assert set(bars[0]["y"]) == set(metrics["models"]["random_forest"]["search"]["best_params"])
