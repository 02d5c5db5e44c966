"""Reports made by the fake graders of the batch, CLI and formats tests (which grade no real code): one
place that knows a graded report's top-level fields."""


def fake_check(spec, ok, message, **extra):
    """A check entry for the assignment's check ``spec``: full points when ``ok``, else none; ``extra``
    adds fields (details)."""
    return {
        "id": spec.id,
        "status": "pass" if ok else "fail",
        "score": spec.points if ok else 0.0,
        "max_score": spec.points,
        "visibility": spec.visibility,
        "message": message,
        **extra,
    }


def fake_report(name, assignment, seed, checks, **extra):
    """A graded report of ``checks`` (check entries as the grader writes them); ``extra`` adds or
    replaces top-level fields (timing, isolation, gradcheck_version)."""
    return {
        "schema_version": 1,
        "submission": name,
        "assignment": assignment.name,
        "seed": seed,
        "status": "graded",
        "message": "",
        "score": sum(c["score"] for c in checks),
        "max_score": assignment.max_score,
        "checks": checks,
        "timing": {"seconds": 0.1},
        **extra,
    }
