"""Progress of a grading run on a terminal: a bar with the count, the rate and the time left (tqdm).

The command line uses it when its progress stream is a terminal; elsewhere (CI logs, a file, a pipe)
it prints one plain line per submission instead. Lines that must stay (a submission the grader could
not grade, and why) are written above the bar.
"""

from __future__ import annotations

__all__ = ["ProgressBar"]


class ProgressBar:
    """``update(name, failed_lines)`` after each submission; ``close()`` at the end. The bar is made at
    the first update, when the number of submissions to grade is known."""

    def __init__(self, stream, unit="submission"):
        self.stream, self.unit, self.bar = stream, unit, None

    def update(self, done, total, name="", lines=()):
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(
                total=total,
                unit=self.unit,
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]{postfix}",
            )
        for line in lines:
            self.bar.write(line, file=self.stream)
        self.bar.set_postfix_str(name, refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.set_postfix_str("", refresh=False)
            self.bar.close()
            self.bar = None
