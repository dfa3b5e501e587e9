"""kedro dask-certs: a CA and the TLS certificates of a Dask cluster (make certs)."""

import stat
import subprocess

import pytest

from parallel_trees.certificates import ROLES, make_certificates
from parallel_trees.errors import UserError

FILES = sorted(f"{name}{end}" for name in ("ca", *ROLES) for end in (".pem", "-key.pem"))


def test_the_ca_signs_a_certificate_for_each_role_and_the_keys_are_private(certificates):
    team = certificates["team"]  # made by kedro dask-certs (conftest)
    for role in ROLES:
        verified = subprocess.run(
            ["openssl", "verify", "-CAfile", team / "ca.pem", team / f"{role}.pem"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
    for key in ("ca", *ROLES):
        assert stat.S_IMODE((team / f"{key}-key.pem").stat().st_mode) == 0o600
    for certificate in ("ca", *ROLES):
        assert stat.S_IMODE((team / f"{certificate}.pem").stat().st_mode) == 0o644
    assert sorted(p.name for p in team.iterdir()) == FILES


def valid_for(certificate, days: int) -> bool:
    """Whether ``certificate`` is still valid ``days`` days from now."""
    end = subprocess.run(
        ["openssl", "x509", "-checkend", str(days * 86400), "-noout", "-in", certificate],
        capture_output=True, check=False,
    )  # fmt: skip
    return end.returncode == 0


def test_the_certificates_last_the_days_asked_for(tmp_path):
    make_certificates(tmp_path / "certs", days=30)
    for name in ("ca", *ROLES):
        certificate = tmp_path / "certs" / f"{name}.pem"
        assert valid_for(certificate, 29)
        assert not valid_for(certificate, 31)


def test_when_openssl_fails_nothing_is_made_and_its_message_is_shown(tmp_path):
    with pytest.raises(UserError) as refused:
        make_certificates(tmp_path / "deeper" / "certs", days=0)  # openssl refuses 0 days
    message = refused.value.message
    assert message.startswith("openssl failed; nothing was made:\n")
    assert '"0" for option -days' in message  # openssl's own words
    assert list((tmp_path / "deeper").iterdir()) == []  # no temporary folder left
