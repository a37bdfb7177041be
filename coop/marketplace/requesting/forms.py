"""The requester's and the coordinators' forms; the API's schemas still decide what is valid."""

import json
from datetime import UTC

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coop.marketplace.models import CONTENT_WARNINGS

PURPOSE_CHOICES = [
    SelectChoice("preparation", _l("Preparation: labelling, transcribing or sorting data")),
    SelectChoice("verification", _l("Verification: checking what a system produced")),
    SelectChoice("impersonation", _l("Impersonation: answering in a system's place")),
]
WARNING_LABELS = {
    "violence": _l("Violence"),
    "sexual": _l("Sexual content"),
    "hate": _l("Hate"),
    "self_harm": _l("Self-harm"),
    "disturbing": _l("Disturbing content"),
}
# The fields whose values the terms judge: the form checks these as the requester types.
TERMS_FIELDS = (
    "reward_cents",
    "est_seconds",
    "purpose",
    "impersonation_notice",
    "end_client",
    "dpa_reference",
    "content_warnings",
)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, so it works with any input and without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _whole(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


class BatchForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What the work is and what it is for; members read it before claiming."),
    )
    instructions = TextAreaField(
        _l("Instructions"),
        validators=[Optional(), Length(max=50_000)],
        description=_l("What a worker does with each item."),
    )
    end_client = StringField(
        _l("End client"),
        validators=[Length(max=200)],
        description=_l("Who the data is finally for; the terms require it."),
    )
    purpose = SelectField(_l("Purpose"), choices=PURPOSE_CHOICES, default="preparation")
    impersonation_notice = TextAreaField(
        _l("How end users are told that a human answers"),
        validators=[Optional(), Length(max=5_000)],
        description=_l("Required for impersonation work."),
    )
    content_warnings = CheckboxesField(
        _l("Content warnings"),
        choices=[SelectChoice(name, WARNING_LABELS[name]) for name in CONTENT_WARNINGS],
        description=_l("Only members who opted into each warning see the batch."),
    )
    personal_data = BooleanField(_l("The items hold personal data"))
    dpa_reference = StringField(
        _l("Data-processing agreement reference"),
        validators=[Length(max=200)],
        description=_l("Required when the items hold personal data."),
    )
    reward_cents = StringField(
        _l("Reward per item, in cents"),
        description=_l("Paid to the worker for each approved item; the coop's fee comes on top."),
    )
    est_seconds = StringField(
        _l("Estimated seconds per item"),
        description=_l("Reward × 3600 / seconds is the hourly pay the terms hold you to."),
    )
    assignments_per_item = StringField(
        _l("Workers per item"), default="1", description=_l("How many members do each item.")
    )
    expires_at = DateTimeLocalField(
        _l("Deadline (UTC)"),
        validators=[Optional()],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        description=_l("Optional: after it, unclaimed items are refunded."),
    )
    items = TextAreaField(
        _l("Items"),
        description=_l('One JSON object a line, e.g. {"url": "https://..."}; or paste CSV with a header line.'),
    )
    items_csv = FileField(
        _l("Or upload the items as a CSV file"), description=_l("A header line, then one item a line.")
    )
    answer_fields = TextAreaField(
        _l("Answer form (optional, JSON)"),
        description=_l(
            'A list of fields, e.g. [{"name": "sign", "label": "Which sign?", "type": "choice", '
            '"options": ["stop", "yield"]}]; types: choice, text, number, boolean.'
        ),
    )
    pilot_slots = StringField(
        _l("Pilot: open this many assignments first (optional)"),
        description=_l("Paid like any other work; you launch the rest after reading the pilot's feedback."),
    )

    # Whether the CSV came typed into the items box rather than as a file: its problems go beside the box.
    csv_pasted = False

    def move_csv_errors(self) -> None:
        """Problems the API reports on items_csv, put beside the box the CSV was typed into."""
        if self.csv_pasted and self.items_csv.errors:
            self.items.errors = [*(self.items.errors or []), *self.items_csv.errors]
            self.items_csv.errors = []

    def terms_draft(self) -> dict:
        """The values the terms judge, as far as they can be read yet (for the check as you type)."""
        return {
            "reward_cents": _whole(self.reward_cents.data),
            "est_seconds": _whole(self.est_seconds.data),
            "purpose": self.purpose.data or "",
            "impersonation_notice": self.impersonation_notice.data,
            "end_client": self.end_client.data,
            "personal_data": bool(self.personal_data.data),
            "dpa_reference": self.dpa_reference.data,
            "content_warnings": self.content_warnings.data or [],
        }

    def body(self) -> dict:
        """The form as the API's batch body: what the API would be sent, before its schema reads it.

        Problems only the form can see (an item line that is not JSON, an unreadable file) go on the
        form's fields and the part is left out, so the schema's own message does not repeat them.
        """
        body: dict = {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "instructions": self.instructions.data or "",
            "end_client": self.end_client.data or "",
            "purpose": self.purpose.data or "",
            "content_warnings": self.content_warnings.data or [],
            "personal_data": bool(self.personal_data.data),
        }
        if not body["title"]:
            del body["title"]
        for name in ("impersonation_notice", "dpa_reference"):
            if (getattr(self, name).data or "").strip():
                body[name] = getattr(self, name).data
        for name in ("reward_cents", "est_seconds", "assignments_per_item", "pilot_slots"):
            raw = (getattr(self, name).data or "").strip()
            if raw:
                number = _whole(raw)
                if number is None:
                    getattr(self, name).errors = [_("Give a whole number.")]
                else:
                    body[name] = number
        if self.expires_at.data:
            body["expires_at"] = self.expires_at.data.replace(tzinfo=UTC).isoformat()
        self._read_items(body)
        raw_form = (self.answer_fields.data or "").strip()
        if raw_form:
            try:
                body["answer_fields"] = json.loads(raw_form)
            except ValueError:
                self.answer_fields.errors = [_("This is not JSON: give a list of fields as in the example.")]
        return body

    def _read_items(self, body: dict) -> None:
        upload = self.items_csv.data
        if isinstance(upload, FileStorage) and upload.filename:
            try:
                body["items_csv"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.items_csv.errors = [_("The file is not UTF-8 text; save it as CSV in UTF-8.")]
        text = (self.items.data or "").strip()
        if not text:
            return
        if not text.startswith("{"):
            # Pasted CSV: the same reader as an uploaded file.
            if "items_csv" in body:
                self.items.errors = [_("Give the items once: typed here or as a file, not both.")]
            else:
                body["items_csv"] = text
                self.csv_pasted = True
            return
        items, problems = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                problems.append(_("Line %(line)s is not a JSON object.", line=number))
            else:
                items.append({"data": data})
        if problems:
            self.items.errors = problems[:10]
        else:
            body["items"] = items


class LaunchForm(FlaskForm):
    instructions = TextAreaField(_l("Revised instructions (optional)"), validators=[Optional(), Length(max=50_000)])
    reward_cents = IntegerField(_l("Reward per item, in cents"), validators=[Optional()])
    est_seconds = IntegerField(_l("Estimated seconds per item"), validators=[Optional()])


class RaiseForm(FlaskForm):
    reward_cents = IntegerField(_l("New reward per item, in cents"), validators=[Optional()])


class DepositForm(FlaskForm):
    amount_cents = IntegerField(
        _l("Amount, in cents"),
        validators=[Optional()],
        description=_l("For example 50000 for 500.00 €."),
    )
    payment_reference = StringField(
        _l("Payment reference"),
        validators=[Optional(), Length(max=200)],
        description=_l("The reference of your bank transfer, so a coordinator can match it."),
    )


class ReviewForm(FlaskForm):
    # Set by the button pressed: approve or reject.
    decision = StringField()
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5_000)])


class BonusForm(FlaskForm):
    amount_cents = IntegerField(_l("Bonus, in cents"), validators=[Optional()])
    reason = StringField(_l("Why"), validators=[Optional(), Length(max=2_000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[Optional(), Length(max=2_000)])


class ShareConfirmForm(FlaskForm):
    payment_reference = StringField(_l("Transfer reference received"), validators=[Optional(), Length(max=200)])


class RefusalForm(FlaskForm):
    reason = StringField(_l("Reason for refusing"), validators=[Optional(), Length(max=2_000)])
