from parallel_trees.pipelines.reporting import create_pipeline


def test_each_chart_is_drawn_from_the_runs_outputs_alone():
    nodes = {n.name: n for n in create_pipeline().nodes}
    assert {name: (sorted(n.inputs), n.outputs) for name, n in nodes.items()} == {
        "plot_model_comparison": (["metrics"], ["model_comparison"]),
        "plot_run_timeline": (["metrics", "runner"], ["run_timeline"]),
        "plot_confusion_matrices": (["metrics", "test_predictions"], ["confusion_matrix"]),
    }
    assert all(n.tags == {"reporting"} for n in nodes.values())
