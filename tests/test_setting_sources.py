"""End-to-end: an error about a setting names the file, or --params, that set it."""

import pytest

from tests.conftest import ProjectCopy


def _run(project: ProjectCopy, *args: str, local: str = ""):
    if local:
        (project.root / "conf/local/parameters.yml").write_text(local)
    run = project.kedro("run", "--runner=ParallelRunner", *args)
    assert run.returncode == 1, run.output
    assert "Traceback" not in run.output
    assert project.metrics() == []
    return run.output


def test_a_model_rejecting_a_value_from_conf_local_names_conf_local(project):
    output = _run(project, local="random_forest:\n  max_features: bogus\n")
    assert (
        "Change random_forest.max_features = 'bogus'. "
        "random_forest.max_features is set in conf/local/parameters.yml.\n"
    ) in output


@pytest.mark.parametrize(
    ("args", "local", "where"),
    [
        ((), "cv_folds: 1\n", "Set in conf/local/parameters.yml."),
        (("--params", "cv_folds=1"), "cv_folds: 3\n", "Set in --params."),
        (("--env", "tutorial", "--params", "cv_folds=1"), "", "Set in --params."),
    ],
)
def test_an_invalid_parameter_names_where_it_is_set(project, args, local, where):
    output = _run(project, *args, local=local)
    assert f"  - cv_folds = 1: Input should be greater than or equal to 2. {where}\n" in output


def test_another_environments_file_is_named(project):
    (project.root / "conf/staging").mkdir()
    (project.root / "conf/staging/parameters.yml").write_text("test_size: 1.5\n")
    output = _run(project, "--env", "staging")
    assert "test_size = 1.5: Input should be less than 1. Set in conf/staging/parameters.yml." in (
        output
    )


def test_a_limit_met_by_the_data_names_the_file(project):
    output = _run(project, local="cv_folds: 60\n")
    assert output.endswith("cv_folds is set in conf/local/parameters.yml.\n")
    assert "Error: cv_folds = 60 is more than the 40 training rows" in output


def test_dataset_csv_without_its_file_names_the_file_that_chose_csv(project):
    output = _run(project, local="dataset: csv\n")
    assert output.startswith("Error: dataset: csv (set in conf/local/parameters.yml) reads")
