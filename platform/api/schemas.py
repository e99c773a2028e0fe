"""What the API reads and writes (pydantic models via django-ninja's Schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class ErrorOut(Schema):
    error: ErrorBody


class ComponentOut(Schema):
    position: int = Field(description="Send its files in the multipart part component_<position>.")
    name: str
    required: bool
    max_files: int


class FieldOut(Schema):
    key: str = Field(description="Its answer goes in data.form.<key>.")
    label: str
    type: str
    required: bool
    choices: list[str]
    pattern: str
    min_value: int | float | None = Field(
        default=None,
        description="Number fields: the smallest answer accepted (0 unless the field sets one).",
    )
    max_value: int | float | None = Field(
        default=None, description="Number fields: the largest answer accepted."
    )


class StepOut(Schema):
    name: str
    role: str
    days: int
    transfer: bool


class ProcedureOut(Schema):
    code: str
    name: str
    name_en: str
    sector: str
    online_mode: str
    accepts_online: bool
    fee: int = Field(description="VND")
    fee_unit: str
    processing_days: int = Field(description="working days")
    cutoff_hour: int
    result: str
    version: int
    components: list[ComponentOut]
    fields: list[FieldOut]


class ProcedureDetailOut(ProcedureOut):
    steps: list[StepOut]
    legal_basis: str
    conditions: str


class ProcedureListOut(Schema):
    count: int
    items: list[ProcedureOut]


class ApplicantIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


class SubmitData(Schema):
    """The ``data`` part of a submission (JSON)."""

    model_config = ConfigDict(extra="forbid")

    applicant: ApplicantIn
    form: dict[str, Any] = Field(default_factory=dict)


class InboundData(SubmitData):
    """The ``data`` part of an inbound delivery (JSON)."""

    external_id: str = Field(min_length=1, max_length=100)
    procedure_code: str = Field(min_length=1, max_length=40)
    received_at: dt.datetime | None = None


class ReceiptOut(Schema):
    code: str
    lookup_secret: str
    status: str
    received_at: dt.datetime
    due_date: dt.date
    created: bool
    external_id: str | None = None
    tracking_url: str


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_status: str
    to_status: str
    summary: str


class DocumentOut(Schema):
    component_position: int
    component_name: str
    name: str
    content_type: str
    size: int
    sha256: str


class DossierOut(Schema):
    code: str
    procedure_code: str
    procedure_name: str
    channel: str
    status: str
    status_label: str
    external_id: str | None
    received_at: dt.datetime
    due_date: dt.date
    completed_at: dt.datetime | None
    fee_amount: int
    fee_paid: bool
    history: list[EventOut]
    documents: list[DocumentOut]
