"""Smoke test of the benchmark (bench/run.py) on tiny sizes: its pieces run and its JSON has the
expected shape. Not a timed test: the targets are measured by the benchmark, never asserted here."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("gradcheck_bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_class_has_every_planted_bug(bench, tmp_path):
    kinds = bench.make_class(tmp_path, 10)
    assert sorted(set(kinds.values())) == sorted(["correct", *bench.BUGS])
    assert list(kinds.values()).count("correct") == 5
    reference = {m: (ROOT / "reference" / m).read_text() for m in bench.MODULES}
    for name, kind in kinds.items():
        files = {m: (tmp_path / name / m).read_text() for m in bench.MODULES}
        changed = [m for m in bench.MODULES if files[m] != reference[m]]
        assert changed == ([] if kind == "correct" else [bench.BUGS[kind][0]])
        assert not (tmp_path / name / "__init__.py").exists()


def test_classify_processes(bench):
    assert bench.classify(10, 10, 0, "python -c ...") == "cli"
    assert bench.classify(11, 10, 1_000_042, "python -I -S -B /x/zygote.py 5") == "worker"
    assert bench.classify(12, 10, 0, "python -I -S -B /x/zygote.py 5") == "zygote"
    assert (
        bench.classify(
            13,
            10,
            0,
            "python -c from multiprocessing.spawn import spawn_main; "
            "spawn_main(tracker_fd=5, pipe_handle=7) --multiprocessing-fork",
        )
        == "grader"
    )
    assert bench.classify(14, 10, 0, "python -c from multiprocessing.resource_tracker import main;main(4)") == "other"


def test_planted_gradients_are_wrong_and_checked(bench):
    problem = bench.LossProblem([3, 4, 3], batch=8)
    cases = bench.planted(problem)
    assert list(cases)[0] == "correct" and len(cases) == 6
    for case, grads in cases.items():
        assert [g.shape for g in grads] == [p.shape for p in problem.params]
        if case != "correct":
            assert any(not np.allclose(g, c) for g, c in zip(grads, cases["correct"])), case
    result = bench.numerical_cost([3, 4, 3], seeds=1, repeat=1)
    assert result["params"] == 31 and result["sizes"] == [3, 4, 3]
    assert set(result["checkers"]) == {"gradcheck directional", "gradcheck auto", "cs231n loop"}
    for name, entry in result["checkers"].items():
        assert {"evaluations", "ms", "passes", "caught", "bugs", "false_alarm", "verdicts"} <= set(entry), name
        assert entry["bugs"] == 5 and 0 <= entry["caught"] <= 5
    assert result["checkers"]["gradcheck directional"]["evaluations"] == [17]  # 4 tensors x 1 direction x 4 + 1
    assert result["checkers"]["cs231n loop"]["evaluations"] == 62


@pytest.mark.system
def test_benchmark_end_to_end_on_a_tiny_class(bench, tmp_path):
    out = tmp_path / "results.json"
    # the cluster comparison starts Dask clusters: its own test below fakes the runs it times
    argv = ["--n", "2", "--sizes", "3,4,3", "--seeds", "1", "--rounds", "1", "--skip", "cluster", "--json", str(out)]
    results = bench.main(argv)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(results))
    assert {"machine", "class", "worker_startup", "numerics", "targets"} <= set(saved)
    c = saved["class"]
    assert c["n"] == 2 and c["cpus"] == 2 and c["jobs"] == bench._default_jobs(2) and c["small"]["n"] == 1
    for key in (
        "submissions_per_second",
        "median_seconds",
        "p95_seconds",
        "grader_peak_rss_mb",
        "worker_peak_rss_mb",
        "grader_memory_grows",
        "identical_across_jobs",
        "cpu_ms_per_submission",
    ):
        assert key in c, key
    assert c["identical_across_jobs"] is True
    assert c["scores"]["correct"] == [100.0]
    w = saved["worker_startup"]
    assert w["spawn_ping_over_fresh"] == pytest.approx(w["spawn_ping_ms"] / w["fresh_import_numpy_ms"], rel=1e-2)
    assert {t for t in saved["targets"]} >= {
        "throughput",
        "worker_start",
        "worker_rss",
        "grader_memory_flat",
        "jobs_identical",
    }
    assert all(isinstance(t["met"], bool) for t in saved["targets"].values())


def test_cluster_comparison_reads_its_runs(bench, monkeypatch):
    """cluster_comparison on faked runs (no cluster started): rates, the wall clock Dask adds per
    submission, identical reports, the sizing rule, and the table's lines."""
    n = 10
    walls = {None: {2: 5.0, 4: 3.0}, "local:2": 6.0, "local:4": 4.0}

    def fake_grade_cli(sub_dir, out_dir, jobs=None, seed=0, cpus=None, cluster=None):
        Path(out_dir).mkdir()
        for name in sorted(p.name for p in Path(sub_dir).iterdir()):
            report = {"submission": name, "score": 100.0, "timing": {"seconds": 0.1 if cluster else 0.2}}
            (Path(out_dir) / f"{name}.json").write_text(json.dumps(report))
        wall = walls[cluster] if cluster else walls[None][jobs]
        reported = [1.0 + i * (wall - 1.0) / (n - 1) for i in range(n)]  # a report every (wall - 1) / 9 s
        return {"wall_seconds": wall, "cpu_seconds": 2.0, "memory": {}, "reported": reported}

    monkeypatch.setattr(bench, "grade_cli", fake_grade_cli)
    monkeypatch.setattr(
        bench,
        "dask_overhead",
        lambda rounds, cpus: {
            "cluster_start_seconds": 1.0,
            "trivial_task_ms": 2.0,
            "submission_task_ms": 3.0,
            "read_submission_ms": 0.5,
            "submission_bytes": 100,
            "report_bytes": 200,
            "rounds": rounds,
        },
    )
    c = bench.cluster_comparison(n, cpus=2, overhead_rounds=3)
    assert c["identical_reports"] is True
    assert c["runs"]["local2"]["submissions_per_second"] == pytest.approx(1.67)  # 10 in 6 s
    assert c["extra_wall_ms_per_submission"] == {"2": 100.0, "4": 100.0}  # (6 - 5) s / 10, (4 - 3) s / 10
    assert c["runs"]["local4"]["steady_submissions_per_second"] == pytest.approx(3.0)  # 9 reports in 3 s
    assert c["submissions_per_second_per_core"] == pytest.approx(1.5)
    text = bench.table({"cluster": c, "machine": {"loadavg_before": None, "loadavg_after": None}})
    assert "local:2" in text and "100 ms of class wall clock" in text and "1.50 submissions/s per core" in text
