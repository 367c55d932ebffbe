"""The JSON Schemas in schemas/: valid themselves, their examples valid, their errors naming fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hub.core import schemas
from hub.core.errors import InvalidMessage

SCHEMA_FILES = sorted((Path(__file__).resolve().parents[2] / "schemas").glob("*.schema.json"))
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def test_schema_directory_is_the_one_the_hub_reads():
    assert SCHEMA_FILES, "no schemas found"
    assert [p.name.removesuffix(".schema.json") for p in SCHEMA_FILES] == schemas.names()


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12_with_id_and_description(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc.get("$schema") == DRAFT_2020_12
    Draft202012Validator.check_schema(doc)
    assert doc.get("$id") == schemas.BASE_URI + path.name
    assert isinstance(doc.get("description"), str) and doc["description"].strip()


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_example_in_a_schema_validates(path):
    name = path.name.removesuffix(".schema.json")
    examples = schemas.schema(name).get("examples")
    assert examples, f"{path.name} has no examples"
    for i, example in enumerate(examples):
        assert schemas.errors(name, example) == [], f"{path.name} examples[{i}]"
        assert schemas.validate(name, example) is example


# --- complaints: each error names its field --------------------------------------------------

@pytest.fixture
def complaint() -> dict[str, Any]:
    return copy.deepcopy(schemas.schema("complaint")["examples"][0])


def fields(instance: Any) -> dict[str, str]:
    return {e.field: e.reason for e in schemas.errors("complaint", instance)}


def test_minimal_complaint_is_valid():
    assert schemas.errors("complaint", {"text": "Lampu jalan mati", "channel": "web"}) == []


def test_missing_text_is_named_as_required(complaint):
    del complaint["text"]
    assert fields(complaint) == {"text": "is required"}


def test_missing_channel_is_named_as_required(complaint):
    del complaint["channel"]
    assert fields(complaint) == {"channel": "is required"}


def test_latitude_out_of_range_names_the_nested_field(complaint):
    complaint["location"]["latitude"] = 200
    found = fields(complaint)
    assert list(found) == ["location.latitude"]
    assert "200" in found["location.latitude"]


def test_unknown_top_level_field_is_named(complaint):
    complaint["colour"] = "red"
    assert fields(complaint) == {"colour": "is not an allowed field"}


def test_unknown_nested_field_is_named_with_its_path(complaint):
    complaint["location"]["rt"] = "05"
    assert fields(complaint) == {"location.rt": "is not an allowed field"}


def test_attachment_that_is_not_a_url_is_named_by_index(complaint):
    complaint["attachments"] = ["https://example.org/ok.jpg", "foto-jalan.jpg"]
    assert set(fields(complaint)) == {"attachments[1]"}


def test_first_attachment_not_a_url_is_attachments_0(complaint):
    complaint["attachments"] = ["not a url"]
    assert set(fields(complaint)) == {"attachments[0]"}


def test_bad_date_time_is_named(complaint):
    complaint["submitted_at"] = "kemarin sore"
    found = fields(complaint)
    assert list(found) == ["submitted_at"]
    assert "date-time" in found["submitted_at"]


def test_latitude_without_longitude_is_reported_on_location(complaint):
    del complaint["location"]["longitude"]
    found = fields(complaint)
    assert list(found) == ["location"]
    assert "longitude" in found["location"]


def test_non_object_message_is_reported_on_the_whole_message():
    assert [e.field for e in schemas.errors("complaint", ["text"])] == ["$"]


def test_invalid_message_carries_every_error_at_once(complaint):
    del complaint["text"]
    complaint["location"]["latitude"] = 200
    complaint["colour"] = "red"
    complaint["attachments"] = ["not a url"]
    complaint["submitted_at"] = "kemarin"
    with pytest.raises(InvalidMessage) as exc:
        schemas.validate("complaint", complaint)
    err = exc.value
    assert err.schema == "complaint"
    assert {e.field for e in err.errors} == {"text", "location.latitude", "colour", "attachments[0]", "submitted_at"}
    assert [e.field for e in err.errors] == sorted(e.field for e in err.errors)
    assert str(err).startswith("invalid complaint: attachments[0]: ")


def test_field_errors_serialise_as_field_and_reason(complaint):
    del complaint["text"]
    with pytest.raises(InvalidMessage) as exc:
        schemas.validate("complaint", complaint)
    assert [e.as_dict() for e in exc.value.errors] == [{"field": "text", "reason": "is required"}]
