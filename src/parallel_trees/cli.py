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

It adds ``kedro dask-certs DIR``: the certificates of a Dask cluster with TLS;
and ``kedro prune``: the runs' old versions under ``data/`` listed, or removed.
"""

import gc
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.utils import find_kedro_project

from parallel_trees.certificates import make_certificates
from parallel_trees.datasets import training_runs
from parallel_trees.errors import UserError
from parallel_trees.housekeeping import (
    SavedVersion,
    dataset_folders,
    megabytes,
    remove,
    saved_versions,
    to_remove,
)
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
    See docs/cluster.md, "A cluster on a shared network: TLS".
    """
    make_certificates(folder, days)
    click.echo(
        f"Made in {folder}: ca.pem (ca-key.pem), and scheduler, worker and client "
        "certificates (<role>.pem, <role>-key.pem)."
    )


@cli.command()
@click.option(
    "--keep", type=click.IntRange(min=1), default=5, show_default=True,
    help="How many of the newest versions to keep.",
)  # fmt: skip
@click.option("--delete", is_flag=True, help="Remove them; without it, only list them.")
def prune(keep: int, delete: bool) -> None:
    """List the runs' saved versions (data/) but the newest --keep; --delete removes them.

    A version is what one kedro run saved: a folder named by its start time in
    each versioned dataset of the catalog (models, metrics.json, reports,
    charts, predictions). The training run that predict uses by default (the
    latest complete one) is always kept.

    Without --delete nothing is removed: removed results cannot be brought
    back, and a command typed to see what it does must not lose files (git
    clean refuses without -f). MLflow's store (mlflow.db, mlruns/) is not
    touched: mlflow gc removes its deleted runs.
    """
    versions, predicted_with = _saved_versions()
    kept = f"the newest {keep}" + (
        f" and the training run predict uses ({predicted_with})" if predicted_with else ""
    )
    removed = to_remove(versions, keep, predicted_with)
    if not removed:
        click.echo(f"Nothing to remove: {_versions(len(versions))}, and kedro prune keeps {kept}.")
        return
    for version in removed:
        if delete:
            try:
                remove(version)
            except OSError as error:
                raise UserError(
                    f"Could not remove {error.filename}: {error.strerror}. Fix that, then run "
                    "kedro prune again."
                ) from error
        done = "Removed" if delete else "Would remove"
        click.echo(f"{done} {version.name} ({megabytes(version.size)})")
    freed = megabytes(sum(version.size for version in removed))
    if delete:
        click.echo(f"Removed {_versions(len(removed))}, freed {freed}; kept {kept}.")
    else:
        click.echo(f"Would remove {_versions(len(removed))}, freeing {freed}; would keep {kept}.")
        click.echo(f"Nothing removed (a dry run): kedro prune --keep {keep} --delete removes them.")


def _saved_versions() -> tuple[list[SavedVersion], str | None]:
    """Every version the project's catalog holds, oldest first, and the training run that
    predict uses by default (``None`` before the first)."""
    root = find_kedro_project(Path.cwd())
    if root is None:
        raise UserError(
            f"kedro prune prunes a Kedro project's runs, and {Path.cwd()} is in none: run it "
            "in the project's folder."
        )
    bootstrap_project(root)
    context = KedroSession.create(project_path=root, save_on_close=False).load_context()
    catalog = context.catalog
    names = set(catalog.keys()).union(*(pipeline.datasets() for pipeline in pipelines.values()))
    # Kedro makes filepaths absolute, not trained_model's metrics: relative to the project.
    runs = training_runs(root / context.config_loader["catalog"]["trained_model"]["metrics"])
    return saved_versions(dataset_folders(catalog, names)), (runs[-1] if runs else None)


def _versions(count: int) -> str:
    return f"{count} version{'' if count == 1 else 's'}"
