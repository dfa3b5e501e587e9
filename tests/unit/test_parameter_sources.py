import pytest
from kedro.config import OmegaConfigLoader

from parallel_trees.kedro_internals import parameter_files
from parallel_trees.parameter_sources import ParameterSources
from parallel_trees.settings import CONFIG_LOADER_ARGS

BASE = "n_estimators: 10\ncv_folds: 5\nforest:\n  n_estimators: ${n_estimators}\n  depth: 3\n"


@pytest.fixture
def conf(tmp_path):
    """A project's conf/ with base, local and a staging environment."""
    for env, text in [
        ("base", BASE),
        ("local", "cv_folds: 4\nforest:\n  depth: 9\n"),
        ("staging", "n_estimators: 20\n"),
    ]:
        (tmp_path / "conf" / env).mkdir(parents=True)
        (tmp_path / "conf" / env / "parameters.yml").write_text(text)
    (tmp_path / "conf/local/parameters_extra.yml").write_text("seed: 1\n")
    return tmp_path / "conf"


def sources(conf, env=None, **runtime) -> ParameterSources:
    loader = OmegaConfigLoader(str(conf), env=env, runtime_params=runtime, **CONFIG_LOADER_ARGS)
    return ParameterSources.of(loader)


class TestWhere:
    def test_the_file_that_sets_a_key_wins_as_kedro_merges_them(self, conf):
        where = sources(conf).where
        assert where("cv_folds") == "conf/local/parameters.yml"  # local over base
        assert where("forest.depth") == "conf/local/parameters.yml"  # soft merge: one key
        assert where("n_estimators") == "conf/base/parameters.yml"
        assert where("seed") == "conf/local/parameters_extra.yml"  # any parameters* file

    def test_params_win_over_every_file(self, conf):
        assert sources(conf, cv_folds=2, forest={"depth": 1}).where("forest.depth") == "--params"

    def test_another_environment_takes_the_place_of_local(self, conf):
        where = sources(conf, env="staging").where
        assert where("cv_folds") == "conf/base/parameters.yml"
        assert where("n_estimators") == "conf/staging/parameters.yml"

    def test_an_interpolation_names_where_its_value_comes_from(self, conf):
        assert sources(conf).where("forest.n_estimators") == (
            "conf/base/parameters.yml as ${n_estimators}, which is set in conf/base/parameters.yml"
        )
        assert sources(conf, n_estimators=0).where("forest.n_estimators") == (
            "conf/base/parameters.yml as ${n_estimators}, which is set in --params"
        )
        # Kedro resolves base's interpolation within base: staging's n_estimators is not it.
        assert (
            sources(conf, env="staging")
            .where("forest.n_estimators")
            .endswith("which is set in conf/base/parameters.yml")
        )

    def test_a_key_nothing_sets(self, conf):
        assert sources(conf).where("forest.width") == "no file"


def test_describe_says_where_each_key_is_set(conf):
    assert sources(conf, cv_folds=3).describe(["cv_folds", "forest.depth"]) == (
        "cv_folds is set in --params. forest.depth is set in conf/local/parameters.yml."
    )
    assert sources(conf).describe([]) == ""


def test_parameter_files_are_the_envs_then_bases_as_written(conf):
    loader = OmegaConfigLoader(str(conf), env="local", **CONFIG_LOADER_ARGS)
    local, base = parameter_files(loader)
    assert sorted(p.name for p in local) == ["parameters.yml", "parameters_extra.yml"]
    assert base[conf / "base/parameters.yml"]["forest"]["n_estimators"] == "${n_estimators}"


def test_the_files_are_read_only_when_a_source_is_first_asked_for(conf, monkeypatch):
    reads = []
    monkeypatch.setattr(
        "parallel_trees.parameter_sources.parameter_files",
        lambda loader: reads.append(loader) or parameter_files(loader),
    )
    found = sources(conf)
    assert reads == []  # a run whose parameters are right never asks
    assert found.where("cv_folds") == "conf/local/parameters.yml"
    assert found.where("seed") == "conf/local/parameters_extra.yml"
    assert len(reads) == 1
