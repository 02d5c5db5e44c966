"""Test-suite settings: Hypothesis draws the same examples on every run (no flaky CI) and keeps no
example database in the checkout. The grader's own Hypothesis runs set their seed explicitly."""
from hypothesis import settings

settings.register_profile("gradcheck-tests", derandomize=True, database=None)
settings.load_profile("gradcheck-tests")
