"""Project hooks."""

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from parallel_trees.parameters import validate_parameters


class ParameterValidationHooks:
    """Stop a run with bad parameters before any node runs."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Check the merged parameters (base, env and ``--params``)."""
        validate_parameters(context.params, context.env or "local")
