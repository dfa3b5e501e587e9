from parallel_trees.pipelines.reporting import create_pipeline


def test_the_report_and_each_chart_get_the_datasets_they_show():
    nodes = {n.name: n for n in create_pipeline().nodes}
    assert {name: (sorted(n.inputs), n.outputs) for name, n in nodes.items()} == {
        "report_results": (["metrics"], ["report"]),
        "plot_model_comparison": (["comparison", "scores", "yardstick"], ["model_comparison"]),
        "plot_run_timeline": (
            ["random_forest.training", "run_context", "xgboost.training"],
            ["run_timeline"],
        ),
        "plot_confusion_matrices": (
            ["classes", "scores", "test_predictions"],
            ["confusion_matrix"],
        ),
        "plot_feature_importance": (
            ["random_forest.importance", "scores", "xgboost.importance"],
            ["feature_importance"],
        ),
        "plot_hyperparameter_search": (
            ["params:tuning", "random_forest.training", "xgboost.training", "yardstick"],
            ["hyperparameter_search"],
        ),
    }
    assert all(n.tags == {"reporting"} for n in nodes.values())
