"""gradcheck.schemas: schema loading, the one path formatter, the orders of problems."""

import jsonschema
import pytest

from gradcheck import schemas

SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}


class _Error:  # what the sort keys read of a jsonschema error
    def __init__(self, path, validator="type"):
        self.absolute_path, self.validator = path, validator


@pytest.mark.parametrize(
    "parts,top,text",
    [
        ([], "", ""),
        ([], "(top level)", "(top level)"),
        (["checks", 3, "visibility"], "", "checks[3].visibility"),
        ([0, "a"], "", "[0].a"),
        (["modules", "gates"], "x", "modules.gates"),
        (["a", 1, 2], "", "a[1][2]"),
    ],
)
def test_json_path(parts, top, text):
    assert schemas.json_path(parts, top) == text


@pytest.mark.parametrize(
    "package,name",
    [
        ("gradcheck", "report.schema.json"),
        ("gradcheck.assignment", "assignment.schema.json"),
        ("gradcheck.formats", "schemas/gradescope-results.schema.json"),
        ("gradcheck.formats", "schemas/prairielearn-results.schema.json"),
    ],
)
def test_every_shipped_schema_loads_as_a_fresh_copy_with_one_validator(package, name):
    s = schemas.schema(package, name)
    s["mutated"] = True
    assert "mutated" not in schemas.schema(package, name)
    v = schemas.validator(package, name)
    assert isinstance(v, jsonschema.Draft202012Validator) and schemas.validator(package, name) is v


def test_the_two_orders_of_problems():
    a, b = _Error(["checks", 10, "id"]), _Error(["checks", 2, "id"])
    assert sorted([a, b], key=schemas.by_location) == [b, a]  # the file's order
    assert sorted([b, a], key=schemas.by_path_text) == [a, b]  # by the text of the path ("10" < "2")
    same = [_Error(["x"], "type"), _Error(["x"], "enum")]
    assert [e.validator for e in sorted(same, key=schemas.by_location)] == ["enum", "type"]


def test_problems_text():
    v = jsonschema.Draft202012Validator(SCHEMA)
    assert schemas.problems_text(v, {"items": [1, 2]}, "thing") is None
    text = schemas.problems_text(v, {"items": ["a"] * 12}, "thing")
    assert text.startswith(
        "invalid thing:\n  items[0]: 'a' is not of type 'integer'\n  items[1]: 'a' is not of "
        "type 'integer'\n  items[10]: "
    )  # by the text of the path (Note in schemas.py)
    assert text.endswith("\n  ... and 2 more") and text.count("\n") == 11
    assert "more" not in schemas.problems_text(v, {"items": ["a"] * 12}, "thing", count_rest=False)
    assert schemas.problems_text(v, [], "thing") == "invalid thing:\n  (top level): [] is not of type 'object'"
