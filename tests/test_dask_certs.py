"""scripts/dask-certs: a CA and the TLS certificates of a Dask cluster (make certs)."""

import os
import stat
import subprocess

from tests.conftest import PROJECT

SCRIPT = PROJECT / "scripts" / "dask-certs"
ROLES = ("scheduler", "worker", "client")


def make(folder, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCRIPT, folder], capture_output=True, text=True, check=False, env=os.environ | env
    )


def test_the_ca_signs_a_certificate_for_each_role_and_the_keys_are_private(certificates):
    team = certificates["team"]  # made by the script (conftest)
    for role in ROLES:
        verified = subprocess.run(
            ["openssl", "verify", "-CAfile", team / "ca.pem", team / f"{role}.pem"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
    for key in ("ca", *ROLES):
        assert stat.S_IMODE((team / f"{key}-key.pem").stat().st_mode) == 0o600
    assert sorted(p.name for p in team.iterdir()) == sorted(
        [f"{name}{end}" for name in ("ca", *ROLES) for end in (".pem", "-key.pem")]
    )


def test_an_existing_folder_is_refused_and_left_as_it_is(tmp_path):
    (tmp_path / "certs").mkdir()
    made = make(tmp_path / "certs")
    assert made.returncode == 1
    assert made.stderr.startswith(f"Error: {tmp_path / 'certs'} exists;")
    assert not any((tmp_path / "certs").iterdir())


def test_when_openssl_fails_nothing_is_made(tmp_path):
    made = make(tmp_path / "certs", DAYS="soon")
    assert made.returncode == 1
    assert made.stderr.startswith("Error: openssl failed; nothing was made:")
    assert list(tmp_path.iterdir()) == []
