"""The project's commands (cli.py): ``kedro dask-certs``, ``kedro prune``'s errors; its
``kedro run`` and ``kedro prune``'s pruning are the end-to-end tests' subject
(tests/end_to_end/)."""

from click.testing import CliRunner

from parallel_trees.certificates import ROLES
from parallel_trees.cli import cli

FILES = sorted(f"{name}{end}" for name in ("ca", *ROLES) for end in (".pem", "-key.pem"))


class TestTheKedroCommand:
    """``kedro dask-certs`` in a copy of the project, as ``make certs`` runs it (in process)."""

    def test_it_makes_the_folder_relative_to_where_it_runs(self, module_project):
        run = module_project.in_process("dask-certs", "certs")
        assert run.returncode == 0, run.output
        assert "Made in certs: ca.pem" in run.output
        assert sorted(p.name for p in (module_project.root / "certs").iterdir()) == FILES
        assert not list(module_project.root.glob(".dask-certs.*"))

    def test_an_existing_folder_is_refused_in_one_line_and_left_as_it_is(self, module_project):
        (module_project.root / "taken").mkdir()
        run = module_project.in_process("dask-certs", "taken")
        assert run.returncode == 1
        assert run.output.strip() == (
            "Error: taken exists; choose another folder, or remove it to make new certificates."
        )
        assert not any((module_project.root / "taken").iterdir())

    def test_days_below_one_are_refused_before_openssl_runs(self, module_project):
        run = module_project.in_process("dask-certs", "--days", "0", "never")
        assert run.returncode == 2
        assert "Invalid value for '--days': 0 is not in the range x>=1." in run.output
        assert not (module_project.root / "never").exists()


def test_without_openssl_the_command_says_so_and_makes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no openssl on it
    result = CliRunner().invoke(cli, ["dask-certs", str(tmp_path / "certs")])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: kedro dask-certs needs openssl (1.1.1 or newer); install it first.\n"
    )
    assert list(tmp_path.iterdir()) == []


class TestPruneRefuses:
    VERSION = "data/08_reporting/metrics.json/2026-11-29T14.50.12.016Z"

    def test_a_keep_below_one_with_a_usage_error_and_removes_nothing(self, module_project):
        saved = module_project.root / self.VERSION / "metrics.json"
        saved.parent.mkdir(parents=True)
        saved.write_text("{}")
        run = module_project.in_process("prune", "--keep", "0", "--delete")
        assert run.returncode == 2
        assert "Invalid value for '--keep': 0 is not in the range x>=1." in run.output
        assert saved.is_file()

    def test_to_run_outside_a_kedro_project_in_one_line(self, tmp_path):
        result = CliRunner().invoke(cli, ["prune", "--delete"])
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: kedro prune prunes a Kedro project's runs, and {tmp_path} is in none: run "
            "it in the project's folder.\n"
        )
