"""Project hooks, one class per concern (registered in ``settings.py``).

- ``InputChecksHooks``: parameters, the CSV and the chosen nodes are checked
  before any node runs.
- ``RunContextHooks``: the ``run_context`` dataset (runner, cores, threads per
  model) for the nodes that need it.
- ``RunGuardHooks``: a failed, interrupted or killed run ends cleanly and
  keeps nothing.
- ``TrackingHooks``: when ``tracking`` is true, one MLflow run per Kedro run.
- ``NodeJournalHooks``: which process runs which node, in every worker.
"""

from parallel_trees.hooks.inputs import InputChecksHooks
from parallel_trees.hooks.journal import NodeJournalHooks
from parallel_trees.hooks.run_context import RunContextHooks
from parallel_trees.hooks.run_guard import RunGuardHooks
from parallel_trees.hooks.tracking import TrackingHooks

__all__ = [
    "InputChecksHooks",
    "NodeJournalHooks",
    "RunContextHooks",
    "RunGuardHooks",
    "TrackingHooks",
]
