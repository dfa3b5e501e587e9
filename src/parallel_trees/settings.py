"""Project settings (https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

import sys
import warnings

from parallel_trees import warning_lines
from parallel_trees.collector import imports_uncollected

# The hooks import what the nodes use (scikit-learn, pandas, XGBoost): most of a run's start.
with imports_uncollected():
    from parallel_trees.hooks import (
        InputChecksHooks,
        NodeJournalHooks,
        RunContextHooks,
        RunGuardHooks,
        TrackingHooks,
    )

# kedro-viz 12.5 imports FastAPI's ORJSONResponse, deprecated in the FastAPI of
# our lock: every `kedro viz` command would print an 18-line warning that is
# kedro-viz's to fix. Kedro loads these settings before kedro-viz's API modules
# (kedro viz build); `kedro viz run` imports them in a server process it starts
# by spawn, which runs no project code first but takes this process's -W options.
ORJSON_DEPRECATION = "ORJSONResponse is deprecated"
warnings.filterwarnings("ignore", message=ORJSON_DEPRECATION)
if f"ignore:{ORJSON_DEPRECATION}" not in sys.warnoptions:
    sys.warnoptions.append(f"ignore:{ORJSON_DEPRECATION}")
# The joins (scoring, reporting) read each training branch's outputs by their
# namespaced names, "random_forest.training": Kedro warns about any dot in a
# dataset name given outside a namespace, whether or not it names a namespace.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.'")
# Every other warning shows as Python's filters decide, as one line that names the library
# that raised it, sent where conf/logging.yml says (py.warnings): in every process that
# loads these settings, `kedro run`'s and its workers' under every runner and start method.
warning_lines.install()

# Both open something in before_pipeline_run, trylast, and pluggy calls the trylast
# hooks registered last, last: the guard's watchdog and journal start once the MLflow
# run is open, so that a store that cannot be opened leaves nothing of the run started.
# Hooks that read another's findings are given it: the guard's errors name where a
# parameter is set (the input checks found it), the tracking hook reads the guard's verdict.
INPUTS = InputChecksHooks()
RUN_GUARD = RunGuardHooks(INPUTS)
HOOKS = (
    INPUTS,
    RunContextHooks(),
    TrackingHooks(RUN_GUARD),
    RUN_GUARD,
    NodeJournalHooks(),
)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/tutorial, conf/local) overrides single keys of a
    # section, e.g. xgboost.tree_method, instead of replacing the whole section.
    "merge_strategy": {"parameters": "soft"},
}
