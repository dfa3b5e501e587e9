"""``NodeJournalHooks``: note, in whichever process runs a node, that it runs it.

Registered in ``settings.HOOKS``, so it runs in this project only, and in every
worker of the project's runners (they configure the project in each). Kedro's
own ParallelRunner configures the project in a forked worker only: under spawn
and forkserver a dead worker's node then goes unnamed.
"""

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

from parallel_trees.runners.journal import Journal


class NodeJournalHooks:
    """Keep the run's ``Journal``, in whichever process runs each node."""

    @hook_impl
    def before_node_run(self, node: Node, run_id: str | None) -> None:
        """Note which process runs ``node``."""
        if run_id is not None:  # None: a node run on its own, outside a session
            Journal(run_id).start(node.name)

    @hook_impl
    def after_node_run(self, node: Node, run_id: str | None) -> None:
        """``node`` finished."""
        if run_id is not None:
            Journal(run_id).finish(node.name)

    @hook_impl
    def on_node_error(self, node: Node, run_id: str | None) -> None:
        """``node`` raised: it is not running any more (its error says why)."""
        if run_id is not None:
            Journal(run_id).finish(node.name)
