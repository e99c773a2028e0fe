"""The development inbox: every e-mail and SMS the platform sends, kept instead of delivered.

Local settings only (``DEV_INBOX_DIR`` with ``DEBUG``; production never sets it): the e-mail
backend and the SMS provider below write each message as one JSON file under
``DEV_INBOX_DIR/<schema>/`` (the agency whose schema was active when it was sent, ``public``
for the provider's own mail), from the web and the worker alike, and ``/dev/hop-thu/``
lists them per agency. The terminal gets one line per message, not its body.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from tenants.db import connection

logger = logging.getLogger(__name__)

SCHEMA_PATTERN = re.compile(r"^[a-z0-9_]{1,63}$")
ID_PATTERN = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{32}$")
LIST_LIMIT = 500


def inbox_dir() -> Path | None:
    value = getattr(settings, "DEV_INBOX_DIR", None)
    return Path(value) if value else None


def inbox_enabled() -> bool:
    """Only where DEBUG is on and a folder is configured: never in production."""
    return bool(settings.DEBUG and inbox_dir())


def _root() -> Path:
    root = inbox_dir()
    if root is None:
        raise ImproperlyConfigured("DEV_INBOX_DIR is not set: the development inbox is off.")
    return root


@dataclass(frozen=True)
class InboxMessage:
    id: str
    schema: str
    kind: str  # "email" or "sms"
    at: dt.datetime
    sender: str
    to: list[str]
    subject: str
    body: str

    @property
    def sender_name(self) -> str:
        return parseaddr(self.sender)[0] or self.sender

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1]


def _store(*, kind: str, sender: str, to: Sequence[str], subject: str, body: str) -> str:
    schema = connection.schema_name or "public"
    now = timezone.now()
    message_id = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}"
    folder = _root() / schema
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "kind": kind,
        "at": now.isoformat(),
        "schema": schema,
        "from": sender,
        "to": list(to),
        "subject": subject,
        "body": body,
    }
    tmp = folder / f".{message_id}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.rename(folder / f"{message_id}.json")  # readers never see half a message
    logger.info("dev inbox: %s to %s (%s) %s", kind, ", ".join(to), schema, subject)
    return message_id


class EmailBackend(BaseEmailBackend):
    """Django's e-mail backend interface: keeps each message in the development inbox."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            recipients = [addr for _name, addr in getaddresses(message.recipients())]
            body = message.body if isinstance(message.body, str) else str(message.body)
            _store(
                kind="email",
                sender=str(message.from_email or settings.DEFAULT_FROM_EMAIL),
                to=recipients,
                subject=str(message.subject),
                body=body,
            )
            sent += 1
        return sent


class SmsProvider:
    """``notifications.channels.SmsProvider``: keeps each SMS in the development inbox."""

    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        sender = getattr(settings, "SMS_SENDER", "MOTCUA")
        return "dev-" + _store(kind="sms", sender=sender, to=[to], subject="", body=text)


def _read(path: Path) -> InboxMessage | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return InboxMessage(
            id=path.stem,
            schema=str(data["schema"]),
            kind=str(data["kind"]),
            at=dt.datetime.fromisoformat(str(data["at"])),
            sender=str(data.get("from", "")),
            to=[str(a) for a in data.get("to", [])],
            subject=str(data.get("subject", "")),
            body=str(data.get("body", "")),
        )
    except (OSError, ValueError, KeyError):
        return None


def inbox_schemas() -> dict[str, int]:
    """Each schema that has messages, with how many."""
    root = inbox_dir()
    if root is None or not root.is_dir():
        return {}
    return {
        folder.name: sum(1 for _ in folder.glob("*.json"))
        for folder in sorted(root.iterdir())
        if folder.is_dir() and SCHEMA_PATTERN.match(folder.name)
    }


def inbox_messages(*, schema: str = "", kind: str = "") -> list[InboxMessage]:
    """The newest messages first (at most ``LIST_LIMIT``), of one schema or of all."""
    root = inbox_dir()
    if root is None or not root.is_dir():
        return []
    folders = [root / schema] if schema else [root / name for name in inbox_schemas()]
    paths = sorted(
        (p for folder in folders if folder.is_dir() for p in folder.glob("*.json")),
        key=lambda p: p.name,
        reverse=True,
    )
    found = []
    for path in paths:
        message = _read(path)
        if message is not None and (not kind or message.kind == kind):
            found.append(message)
            if len(found) >= LIST_LIMIT:
                break
    return found


def inbox_message(*, schema: str, message_id: str) -> InboxMessage | None:
    root = inbox_dir()
    if root is None or not SCHEMA_PATTERN.match(schema) or not ID_PATTERN.match(message_id):
        return None
    path = root / schema / f"{message_id}.json"
    return _read(path) if path.is_file() else None
