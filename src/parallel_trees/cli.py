"""The project's ``kedro`` commands: Kedro's ``run``, with its runner options checked first.

Kedro finds this module by name (``<package>.cli``); its ``run`` takes the
place of Kedro's own, with the same options.
"""

from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from parallel_trees.runner_options import check_runner_options


@click.group(name="parallel-trees")
def cli() -> None:
    """The project's commands."""


@cli.command(name="run", params=kedro_run.params, help=kedro_run.help)
def run(**options: Any) -> dict[str, Any]:
    """``kedro run``, once ``--runner`` and ``--runner-params`` are known to work."""
    check_runner_options(options["runner"], options["runner_params"])
    return kedro_run.callback(**options)
