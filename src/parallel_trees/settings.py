"""Project settings (https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from parallel_trees.hooks import ParameterValidationHooks, RunnerHooks

HOOKS = (ParameterValidationHooks(), RunnerHooks())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/tutorial, conf/local) overrides single keys of a
    # section, e.g. xgboost.tree_method, instead of replacing the whole section.
    "merge_strategy": {"parameters": "soft"},
}
