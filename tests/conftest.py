"""Test-suite settings: Hypothesis draws the same examples on every run (no flaky CI) and keeps no
example database in the checkout. The grader's own Hypothesis runs set their seed explicitly.
The ``system`` marker names the tests that start real processes (tests/README.md)."""

from hypothesis import settings

settings.register_profile("gradcheck-tests", derandomize=True, database=None)
settings.load_profile("gradcheck-tests")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "system: starts real processes (the sandbox's fork server and workers, grader processes, "
        "gradcheck or pytest in a subprocess); deselect with -m 'not system'",
    )
