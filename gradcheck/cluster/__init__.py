"""Grading on a Dask cluster (``gradcheck grade SUBMISSIONS --cluster tcp://HOST:PORT`` or ``local:N``).

This file only re-exports. The modules: ``spec`` (what ``--cluster`` names, checked without Dask),
``snapshot`` (a submission as bytes, and rebuilt on a worker), ``client`` (the run: tasks sent,
outcomes handed to ``batch.grade_class``, faults), ``worker`` (the plugin that holds a sandbox on each
Dask worker, and the task), ``local`` (``local:N``: a LocalCluster in a helper process). Dask is
imported only by ``client``, ``worker`` and ``local``, when a run uses a cluster.
"""

from .client import grade_on_cluster
from .spec import ClusterSpec, parse_cluster, require_dask

__all__ = ["ClusterSpec", "grade_on_cluster", "parse_cluster", "require_dask"]
