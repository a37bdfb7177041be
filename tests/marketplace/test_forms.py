"""Answer forms, pure: the rules across a form's fields and the check of an answer against a form."""

import pytest

from coop.marketplace import forms

FORM = [
    {"name": "label", "label": "Which sign?", "type": "choice", "options": ["stop", "yield"], "required": True},
    {"name": "note", "label": "Anything odd?", "type": "text", "required": False},
    {"name": "count", "label": "How many signs?", "type": "number", "required": True},
    {"name": "blurry", "label": "Is it blurry?", "type": "boolean", "required": True},
]


def test_an_answer_that_fits_the_form_has_no_errors():
    assert forms.answer_errors(FORM, {"label": "stop", "note": "two poles", "count": 2, "blurry": False}) == {}
    # An optional field may be left out or sent as null; a number may be a float.
    assert forms.answer_errors(FORM, {"label": "yield", "count": 1.5, "blurry": True}) == {}
    assert forms.answer_errors(FORM, {"label": "yield", "note": None, "count": 0, "blurry": True}) == {}


def test_each_wrong_field_is_named_with_what_to_do():
    errors = forms.answer_errors(FORM, {"label": "go", "note": 5, "count": True, "blurry": "yes", "colour": "red"})
    assert set(errors) == {"label", "note", "count", "blurry", "colour"}
    assert "stop, yield" in errors["label"][0]
    assert errors["note"] == ["Give text (a JSON string)."]
    # true is not the number 1, although Python's bool is an int.
    assert errors["count"] == ["Give a number."]
    assert errors["blurry"] == ["Give true or false."]
    assert "no field 'colour'" in errors["colour"][0] and "blurry, count, label, note" in errors["colour"][0]


def test_required_fields_must_be_present_and_not_null_and_required_text_not_blank():
    form = [{"name": "why", "label": "Why?", "type": "text", "required": True}, *FORM[2:]]
    errors = forms.answer_errors(form, {"why": "   ", "count": None})
    assert errors == {
        "why": ["This field is required; it cannot be blank."],
        "count": ["This field is required."],
        "blurry": ["This field is required."],
    }


def test_required_is_the_default_when_a_stored_field_does_not_say():
    assert forms.answer_errors([{"name": "n", "label": "N", "type": "number"}], {}) == {
        "n": ["This field is required."]
    }


def test_text_is_bounded_and_numbers_must_be_finite():
    form = [{"name": "t", "label": "T", "type": "text"}, {"name": "n", "label": "N", "type": "number"}]
    assert forms.answer_errors(form, {"t": "x" * forms.MAX_TEXT, "n": -3}) == {}
    errors = forms.answer_errors(form, {"t": "x" * (forms.MAX_TEXT + 1), "n": float("inf")})
    assert errors["t"] == [f"{forms.MAX_TEXT + 1} characters; at most {forms.MAX_TEXT}."]
    assert errors["n"] == ["Give a finite number."]


@pytest.mark.parametrize("value", ["Stop", " stop", 1, ["stop"], {"stop": True}])
def test_a_choice_is_exactly_one_of_the_options(value):
    assert "label" in forms.answer_errors(FORM[:1], {"label": value})


def test_a_form_needs_unique_names_and_options_exactly_on_choices():
    errors = forms.form_errors(
        [
            {"name": "a", "label": "A", "type": "choice", "options": ["x", "x"]},
            {"name": "a", "label": "A again", "type": "text", "options": ["y"]},
            {"name": "b", "label": "B", "type": "choice"},
            {"name": "c", "label": "C", "type": "boolean"},
        ]
    )
    assert errors == {
        "0": {"options": ["Each option may appear once."]},
        "1": {
            "name": ["'a' names an earlier field too; each field needs its own name."],
            "options": ["Only a choice field has options; leave them out."],
        },
        "2": {"options": [f"A choice field needs between 1 and {forms.MAX_OPTIONS} options."]},
    }
    assert forms.form_errors(FORM) == {}


@pytest.mark.parametrize("name", ["label", "_x", "Q1", "a" * 64])
def test_identifiers_are_field_names(name):
    assert forms.NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize("name", ["", "1a", "a b", "a.b", "a-b", "a" * 65, "a\n", "é"])
def test_other_text_is_not_a_field_name(name):
    assert not forms.NAME_PATTERN.fullmatch(name)
