"""The project's ``kedro run``: Kedro's own, where ``--runner=ParallelRunner`` is the project's.

Kedro uses a project's ``cli.py`` commands in place of its own
(https://docs.kedro.org/en/stable/extend/common_use_cases/#use-case-3-how-to-add-or-modify-cli-commands).
This one keeps every option, help text and behaviour of Kedro's ``run``, and
changes three things: ``ParallelRunner`` is ``parallel_trees.runners``'s,
whose workers are all ready before the first node, whatever the start method
(``--runner=kedro.runner.ParallelRunner`` still names Kedro's own);
``--runner`` and ``--runner-params`` are checked against the runner's class
before it is made (``runner_options``); and credentials the catalog names but
no credentials file holds are one ``Error:`` line, not Kedro's traceback.

It adds ``kedro dask-certs DIR``: the certificates of a Dask cluster with TLS.
"""

import gc
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from parallel_trees.certificates import make_certificates
from parallel_trees.errors import UserError
from parallel_trees.kedro_internals import missing_credentials
from parallel_trees.runners.options import check_runner_options

RUNNERS = {"ParallelRunner": "parallel_trees.runners.ParallelRunner"}


@click.group(name="parallel-trees")
def cli() -> None:
    """Commands of the parallel-trees project."""


@cli.command(params=kedro_run.params, help=kedro_run.help, short_help=kedro_run.short_help)
@click.pass_context
def run(ctx: click.Context, runner: str | None, **options: Any) -> dict[str, Any]:
    """Kedro's ``run``, with the project's runners for their short names, once
    ``--runner`` and ``--runner-params`` are known to work."""
    runner = RUNNERS.get(runner, runner) if runner else runner
    check_runner_options(runner, options["runner_params"])
    try:
        return ctx.invoke(kedro_run, runner=runner, **options)
    except KeyError as error:  # the catalog could not be made: which credentials are missing
        name = missing_credentials(error)
        if name is None:
            raise
        raise UserError(
            f"The catalog names the credentials {name!r}, and no credentials file holds them: "
            f"add {name}: {{con: <the database's URL>}} to conf/local/credentials.yml, or fix "
            "the entry's credentials (README: Where your table lives)."
        ) from error
    finally:
        skip_last_collections()


def skip_last_collections() -> None:
    """Spare the process Python's garbage collections at exit: the command is over.

    At exit, Python collects garbage while it tears the modules down, walking
    every object that the run's libraries (scikit-learn, pandas, plotly,
    kedro-viz's) ever made: 0.6 s of a default run. Frozen objects are not
    walked. Whatever must happen at exit still does (atexit handlers, logging's
    flush, multiprocessing stopping its helpers): they do not wait for the
    collector.
    """
    gc.freeze()


@cli.command("dask-certs")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--days", type=click.IntRange(min=1), default=365, show_default=True,
    help="How long the certificates are valid.",
)  # fmt: skip
def dask_certs(folder: Path, days: int) -> None:
    """A CA and the scheduler's, workers' and client's TLS certificates, in FOLDER.

    FOLDER must not exist. ca-key.pem signs certificates: keep it off the cluster.
    See the README's "A cluster on a shared network: TLS".
    """
    make_certificates(folder, days)
    click.echo(
        f"Made in {folder}: ca.pem (ca-key.pem), and scheduler, worker and client "
        "certificates (<role>.pem, <role>-key.pem)."
    )
