"""The assignment file: the packaged default, and malformed files named by file, field and expectation."""

import json
import re
from pathlib import Path

import jsonschema
import pytest

import gradcheck.assignment as assignment_package
from gradcheck.assignment import (
    DEFAULT_PATH,
    KNOWN_CHECKS,
    VISIBILITIES,
    Assignment,
    AssignmentError,
    CheckSpec,
    assignment_schema,
    load_assignment,
)

DEFAULT_TEXT = DEFAULT_PATH.read_text(encoding="utf-8")
ONE_CHECK = '[[checks]]\nid = "mlp.train"\npoints = 3\nvisibility = "hidden"\n'


def test_default_lists_every_check_in_order_with_100_points():
    a = load_assignment()
    assert isinstance(a, Assignment)
    assert a.name == "backprop"
    assert a.check_ids == KNOWN_CHECKS
    assert len(KNOWN_CHECKS) == 12 * 5 + 9 + 12
    assert a.max_score == 100.0
    assert all(isinstance(c, CheckSpec) and c.visibility in VISIBILITIES and c.description for c in a.checks)
    by_part = {p: sum(c.points for c in a.checks if c.id.startswith(p + ".")) for p in ("gates", "graph", "mlp")}
    assert by_part == {"gates": 60, "graph": 20, "mlp": 20}
    assert a.check("graph.random_graphs") == CheckSpec(
        "graph.random_graphs", 6.0, "after_due_date", a.check("graph.random_graphs").description
    )
    assert a.check("mlp.train").visibility == "hidden"
    assert {c.visibility for c in a.checks} == {"visible", "after_due_date", "hidden"}
    assert a.check("gates.MatMulGate.shapes").points == 0.5
    assert a.check("gates.Nope.forward") is None and "mlp.loss" in a
    assert a.path == DEFAULT_PATH and a.path.is_absolute()


def test_default_sections():
    a = load_assignment()
    assert a.limits == dict(
        call_seconds=10,
        submission_seconds=120,
        cpu_seconds=60,
        memory_mb=1024,
        processes=32,
        file_size_mb=16,
        open_files=64,
        output_kb=64,
    )
    assert set(a.tolerances) == {"rtol", "atol"}
    assert a.settings == {"random_graphs": 25, "train_steps": 50}


def test_schema_is_draft_2020_12_and_accepts_the_default():
    schema = assignment_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    import tomllib

    jsonschema.Draft202012Validator(schema).validate(tomllib.loads(DEFAULT_TEXT))


def test_instructor_file_may_leave_out_checks_and_sections(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(
        'name = "mine"\n[limits]\ncall_seconds = 2.5\n'
        '[[checks]]\nid = "mlp.train"\npoints = 10\nvisibility = "visible"\n'
        '[[checks]]\nid = "gates.AddGate.forward"\npoints = 5\nvisibility = "after_published"\n'
    )
    a = load_assignment(f)
    assert a.check_ids == ("gates.AddGate.forward", "mlp.train")  # report order, not file order
    assert a.max_score == 15 and a.title == "mine"
    assert a.limits["call_seconds"] == 2.5 and a.limits["memory_mb"] == 1024  # merged with the default
    assert a.settings == load_assignment().settings
    assert a.path == f.resolve()


def _replace_nth(text, old, new, n):
    """text with the n-th (0-based) occurrence of old replaced."""
    idx = [m.start() for m in re.finditer(re.escape(old), text)][n]
    return text[:idx] + new + text[idx + len(old) :]


# (case, file text, field named in the message, words of the expectation that must appear)
MALFORMED = [
    ("syntax", 'name = "x\n' + ONE_CHECK, "", ["invalid TOML", "line 1"]),
    (
        "bad visibility",
        _replace_nth(DEFAULT_TEXT, 'visibility = "visible"', 'visibility = "secret"', 3),
        "checks[3].visibility",
        ["one of visible, hidden, after_due_date, after_published; got 'secret'"],
    ),
    (
        "negative points",
        _replace_nth(DEFAULT_TEXT, "points = 1\n", "points = -1\n", 0),
        "checks[0].points",
        ["a number >= 0", "got -1"],
    ),
    (
        "points as text",
        'name = "x"\n[[checks]]\nid = "mlp.train"\npoints = "three"\nvisibility = "hidden"\n',
        "checks[0].points",
        ["expected a number", "got a string 'three'"],
    ),
    (
        "boolean limit",
        'name = "x"\n[limits]\nmemory_mb = true\n' + ONE_CHECK,
        "limits.memory_mb",
        ["expected an integer", "boolean"],
    ),
    (
        "float where integer",
        'name = "x"\n[settings]\nrandom_graphs = 2.5\n' + ONE_CHECK,
        "settings.random_graphs",
        ["expected an integer", "2.5"],
    ),
    (
        "zero seconds",
        'name = "x"\n[limits]\ncall_seconds = 0\n' + ONE_CHECK,
        "limits.call_seconds",
        ["a number > 0", "got 0"],
    ),
    (
        "unknown top-level field",
        'name = "x"\ncolour = "red"\n' + ONE_CHECK,
        "colour",
        ["unknown field", "name, title, modules, reference, units, limits, tolerances, settings, checks, points"],
    ),
    (
        "unknown section key",
        'name = "x"\n[tolerances]\nrtl = 1e-6\n' + ONE_CHECK,
        "tolerances.rtl",
        ["unknown field", "did you mean 'rtol'"],
    ),
    (
        "unknown check field",
        'name = "x"\n[[checks]]\nid = "mlp.train"\npoints = 1\nvisibility = "hidden"\nweight = 2\n',
        "checks[0].weight",
        ["unknown field", "id, points, visibility, description"],
    ),
    (
        "missing points",
        'name = "x"\n[[checks]]\nid = "mlp.train"\nvisibility = "hidden"\n',
        "checks[0].points",
        ["missing", "a number >= 0"],
    ),
    (
        "missing visibility",
        'name = "x"\n[[checks]]\nid = "mlp.train"\npoints = 1\n',
        "checks[0].visibility",
        ["missing", "one of visible, hidden"],
    ),
    ("missing name", ONE_CHECK, "name", ["missing", "a string"]),
    ("missing checks", 'name = "x"\n', "checks", ["missing", "an array"]),
    ("no checks", 'name = "x"\nchecks = []\n', "checks", ["at least 1"]),
    (
        "duplicate id",
        'name = "x"\n' + ONE_CHECK + ONE_CHECK,
        "checks[1].id",
        ["each check id once", "'mlp.train' again", "checks[0]"],
    ),
    (
        "unknown id",
        'name = "x"\n' + ONE_CHECK.replace("mlp.train", "gates.MultiplyGate.backwards"),
        "checks[0].id",
        ["a known check id", "got 'gates.MultiplyGate.backwards'", "did you mean 'gates.MultiplyGate.backward'"],
    ),
    (
        "malformed id",
        'name = "x"\n' + ONE_CHECK.replace("mlp.train", "mlp train"),
        "checks[0].id",
        ["expected a string", "got a string 'mlp train'"],
    ),
    ("checks not a list", 'name = "x"\nchecks = "all"\n', "checks", ["expected an array", "got a string 'all'"]),
]


@pytest.mark.parametrize("case,text,field,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_names_file_field_and_expectation(tmp_path, case, text, field, expected):
    f = tmp_path / "course.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(AssignmentError) as info:
        load_assignment(f)
    err = info.value
    message = str(err)
    assert str(f) in message and err.file == str(f)
    if field:
        assert f"{field}: " in message, message
        assert err.field == field
    for words in expected:
        assert words in message, message


def test_several_problems_are_all_listed(tmp_path):
    f = tmp_path / "two.toml"
    f.write_text('name = "x"\n[[checks]]\nid = "mlp.train"\npoints = -2\nvisibility = "secret"\n')
    with pytest.raises(AssignmentError) as info:
        load_assignment(f)
    assert "2 problems" in str(info.value)
    assert [p[0] for p in info.value.problems] == ["checks[0].points", "checks[0].visibility"]


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d / "missing.toml",
        lambda d: d,  # a folder
        lambda d: (d / "latin1.toml", (d / "latin1.toml").write_bytes(b'name = "\xe9"\n'))[0],
    ],
    ids=["missing", "folder", "not utf-8"],
)
def test_unreadable_file_is_an_assignment_error(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(AssignmentError) as info:
        load_assignment(path)
    assert str(path) in str(info.value)


def test_schema_is_json():
    assert json.loads(json.dumps(assignment_schema()))["properties"]["checks"]["items"]["required"] == [
        "id",
        "points",
        "visibility",
    ]
    assert (Path(assignment_package.__file__).parent / "assignment.schema.json").exists()


def test_limits_are_sandbox_limits(tmp_path):
    """Every limit the schema allows is a keyword of gradcheck.sandbox.Limits, and its bounds agree."""
    from gradcheck.sandbox import Limits

    Limits(**load_assignment().limits)
    names = set(assignment_schema()["properties"]["limits"]["properties"])
    import dataclasses

    assert names == {f.name for f in dataclasses.fields(Limits)}
    f = tmp_path / "low.toml"
    f.write_text('name = "x"\n[limits]\nmemory_mb = 128\n' + ONE_CHECK)
    with pytest.raises(AssignmentError, match=r"limits.memory_mb: expected an integer >= 256; got 128"):
        load_assignment(f)
    f.write_text('name = "x"\n[limits]\ndisk_mb = 32\nreply_mb = 16\n' + ONE_CHECK)
    assert Limits(**load_assignment(f).limits).disk_mb == 32
