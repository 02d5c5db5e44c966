"""The progress bar of `gradcheck grade` on a terminal (the plain lines elsewhere: test_cli.py)."""

import io
import re

from gradcheck.progress import ProgressBar


def test_the_progress_bar_shows_count_rate_and_time_left_and_keeps_error_lines():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar.update(1, 3, "alice")
    bar.update(2, 3, "bob", ["bob: could not be graded: too long"])
    bar.update(3, 3, "carol")
    bar.close()
    text = stream.getvalue()
    assert "bob: could not be graded: too long\n" in text
    last = text.split("\r")[-1]
    assert "3/3" in last and "100%" in last and re.search(r"submission/s|s/submission", last) and "<00:00" in last
