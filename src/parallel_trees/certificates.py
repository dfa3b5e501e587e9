"""A certificate authority (CA) and the three certificates of a Dask cluster with
mutual TLS, for a team without a PKI of its own (``kedro dask-certs DIR``).

``DIR`` gets (keys readable by their owner only):

- ``ca.pem``: the CA, which every scheduler, worker and client trusts;
- ``ca-key.pem``: the CA's key, which signs certificates: keep it off the cluster;
- ``scheduler.pem``, ``scheduler-key.pem``: for ``dask scheduler``;
- ``worker.pem``, ``worker-key.pem``: for each ``dask worker``;
- ``client.pem``, ``client-key.pem``: for ``kedro run`` (one for the team's members).

Dask checks that a peer's certificate is signed by the CA, not the host name in
it (its TLS contexts set ``check_hostname = False``), so one certificate serves
every machine of a role. Needs openssl (1.1.1 or newer).
"""

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from parallel_trees.errors import UserError

ROLES = ("scheduler", "worker", "client")
# Elliptic-curve keys (P-256): small and fast, and accepted by every TLS library Dask uses.
NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
# Each role both serves and connects (workers fetch data from each other).
EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=serverAuth,clientAuth\n"
)


def make_certificates(folder: Path, days: int = 365) -> None:
    """Make the CA and the scheduler's, workers' and client's certificates in ``folder``.

    Args:
        folder: Where to put them; it must not exist (it is never overwritten).
        days: How long the certificates are valid.

    Raises:
        UserError: ``folder`` exists, openssl is missing, or openssl failed; then
            nothing is made (the work is done in a temporary folder beside ``folder``,
            renamed only once complete).
    """
    if folder.exists():
        raise UserError(
            f"{folder} exists; choose another folder, or remove it to make new certificates."
        )
    if shutil.which("openssl") is None:
        raise UserError("kedro dask-certs needs openssl (1.1.1 or newer); install it first.")
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".dask-certs.", dir=folder.parent))
    try:
        _make_in(work, days)
    except BaseException:  # Ctrl-C too
        shutil.rmtree(work)
        raise
    work.rename(folder)


def _make_in(work: Path, days: int) -> None:
    """The CA, then a certificate per role signed by it, in the empty folder ``work``."""
    _openssl(work, "req", "-x509", *NEW_KEY, "-keyout", "ca-key.pem", "-out", "ca.pem",
             "-days", str(days), "-subj", "/CN=parallel-trees Dask CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    (work / "extensions.cnf").write_text(EXTENSIONS)
    for role in ROLES:
        request = _openssl(work, "req", "-new", *NEW_KEY, "-keyout", f"{role}-key.pem",
                           "-subj", f"/CN=dask-{role}")  # fmt: skip
        _openssl(work, "x509", "-req", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-set_serial", f"0x{secrets.token_hex(16)}", "-days", str(days),
                 "-extfile", "extensions.cnf", "-out", f"{role}.pem", stdin=request)  # fmt: skip
    (work / "extensions.cnf").unlink()
    for name in ("ca", *ROLES):
        (work / f"{name}.pem").chmod(0o644)
    work.chmod(0o755)  # mkdtemp made it 0700


def _openssl(work: Path, *args: str, stdin: bytes = b"") -> bytes:
    """``openssl ARGS`` in ``work``, its files private (umask 077); its stdout.

    openssl's messages are shown only when it fails.
    """
    done = subprocess.run(
        ["openssl", *args], cwd=work, input=stdin, capture_output=True, umask=0o077, check=False
    )
    if done.returncode != 0:
        output = done.stderr.decode(errors="replace").strip()
        raise UserError(f"openssl failed; nothing was made:\n{output}")
    return done.stdout
