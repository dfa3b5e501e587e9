from parallel_trees.pipelines.data_preparation import create_pipeline


def test_pipeline_turns_parameters_into_split_and_folds():
    pipeline = create_pipeline()
    assert {n.name for n in pipeline.nodes} == {
        "data_preparation.load_dataset",
        "data_preparation.infer_column_roles",
        "data_preparation.split_data",
        "data_preparation.make_cv_splits",
        "data_preparation.take_input_example",
        "data_preparation.choose_yardstick",
    }
    assert {i for i in pipeline.inputs() if not i.startswith("params:")} == {"raw_data"}
    assert {i.removeprefix("params:") for i in pipeline.inputs()} - {"raw_data"} == {
        "dataset",
        "target_column",
        "task",
        "column_roles",
        "synthetic",
        "random_state",
        "test_size",
        "cv_folds",
        "cv_shuffle",
        "cv_repeats",
        "metric",
        "positive_class",
    }
    internal = {"data_preparation.features", "data_preparation.target", "data_preparation.task"}
    assert pipeline.all_outputs() - internal == {
        "X_train",
        "X_test",
        "y_train",
        "y_test",
        "cv_splits",
        "classes",
        "input_example",
        "feature_roles",
        "data_source",
        "yardstick",
    }


def test_column_roles_are_inferred_after_the_split_from_its_training_rows():
    (roles,) = [n for n in create_pipeline().nodes if n.name.endswith("infer_column_roles")]
    assert roles.inputs[:2] == ["X_train", "X_test"]
