"""What ``--cluster`` names: a Dask scheduler's address (``tcp://HOST:PORT``, ``tls://HOST:PORT``) or a
local cluster of N worker processes started for the run (``local:N``). Parsed and checked here, before
anything is written, without importing Dask: a bad value or a missing Dask is a usage error."""

from __future__ import annotations

import dataclasses
import re

from ..errors import BatchError

__all__ = ["ClusterSpec", "parse_cluster", "require_dask"]

USAGE = "--cluster takes local:N (N worker processes on this machine) or tcp://HOST:PORT (a Dask scheduler's address)"
NOT_INSTALLED = (
    "--cluster needs Dask distributed, which is not installed here: pip install 'gradcheck[dask]' "
    "(on the machine that grades and on every Dask worker)"
)
_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")


@dataclasses.dataclass(frozen=True)
class ClusterSpec:
    """``local`` worker processes to start here, or the ``address`` of a running scheduler."""

    local: int | None = None
    address: str | None = None

    def __str__(self):
        return f"local:{self.local}" if self.local is not None else self.address


def parse_cluster(value) -> ClusterSpec:
    """The ClusterSpec of a ``--cluster`` value; BatchError (a usage error) naming the value if it is
    neither ``local:N`` (N >= 1) nor ``tcp://HOST:PORT`` / ``tls://HOST:PORT`` (port 1-65535)."""
    if isinstance(value, ClusterSpec):
        return value
    text = str(value).strip()
    if text.startswith("local:"):
        n = text[len("local:") :]
        if n.isdigit() and int(n) >= 1:
            return ClusterSpec(local=int(n))
        raise BatchError(f"{USAGE}; got {text!r} (N must be a whole number, at least 1)")
    m = _ADDRESS.fullmatch(text)
    if m and 1 <= int(m.group(3)) <= 65535:
        return ClusterSpec(address=text)
    raise BatchError(f"{USAGE}; got {text!r}")


def require_dask() -> None:
    """BatchError (a usage error) saying how to install Dask when ``distributed`` cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise BatchError(NOT_INSTALLED) from None
