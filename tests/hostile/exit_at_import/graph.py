"""HOSTILE (exit_at_import): graph.py exits (sys.exit(3)) while it is imported; the rest is the
student's honest graph, never reached. A safe grader reports the SystemExit for the graph's checks
only and grades the gates and the MLP. Bounded: the import ends at once."""
import sys

sys.exit(3)  # HOSTILE: exits at import

from honest_graph import *  # noqa: E402,F401,F403
