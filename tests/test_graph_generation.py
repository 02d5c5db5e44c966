"""The random graphs of graph.random_graphs depend only on the seed (and the Hypothesis version): not on
which local modules the grader process has loaded (Hypothesis draws numbers it finds in their source)."""

import importlib

from gradcheck.checks.graph import generated_graphs


def _drawn(seed):
    generated_graphs.cache_clear()
    return [(g.formula(), repr(g.runs)) for g in generated_graphs(seed, 25)]


def test_random_graphs_do_not_depend_on_the_modules_loaded(tmp_path, monkeypatch):
    before = {seed: _drawn(seed) for seed in (0, 11)}
    (tmp_path / "grader_side_numbers.py").write_text(
        "NUMBERS = [0.123456, -1.75, 1.3125, 0.40625, -0.8125, 1.96875, -0.03125, 0.6640625]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("grader_side_numbers")
    assert {seed: _drawn(seed) for seed in (0, 11)} == before
    generated_graphs.cache_clear()
