"""A stateful fake bank on loopback: the provider's account, its incoming transfers, the signed
notifications it sends to our webhook, and the statement exports its internet banking offers.

``transfer(amount, memo)`` books a credit (a payer's transfer) and notifies the webhook:
``POST <webhook_url>`` with ``X-Bank-Signature: t=<unix>,v1=<HMAC-SHA256("<t>." + body)>``.
``deliver(...)`` sends any body or signature (a tampered or replayed notification);
``statement_csv()`` / ``statement_xlsx()`` export the account as Vietnamese banks do (title rows,
then "Ngày giao dịch", "Số tham chiếu", "Nội dung", "Ghi nợ", "Ghi có", "Số dư").
``GET /v1/accounts/<number>/transactions`` lists the bookings as JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import http.client
import io
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.base import JsonFakeServer


@dataclass
class Booking:
    transaction_id: str
    booked_at: dt.datetime
    amount: int  # positive: a credit
    memo: str
    balance: int


@dataclass
class Delivery:
    status: int
    body: str


class FakeBank(JsonFakeServer):
    def __init__(
        self, *, account_number: str, secret: str, webhook_url: str = "", host: str = "",
        port: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(port=port)
        self.account_number = account_number
        self.secret = secret
        self.webhook_url = webhook_url
        self.webhook_host = host
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.bookings: list[Booking] = []
            self.deliveries: list[Delivery] = []
            self._ids = itertools.count(1)
            self._balance = 50_000_000

    # --- the bank's side ---------------------------------------------------------------------

    def book(self, amount: int, memo: str, *, at: dt.datetime | None = None) -> Booking:
        with self._lock:
            self._balance += amount
            booking = Booking(
                transaction_id=f"FT{int(time.time()) % 100000:05d}{next(self._ids):05d}",
                booked_at=at
                or dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7))),
                amount=amount,
                memo=memo,
                balance=self._balance,
            )
            self.bookings.append(booking)
            return booking

    def notification(self, booking: Booking) -> bytes:
        return json.dumps(
            {
                "id": f"evt_{booking.transaction_id}",
                "type": "transaction.credit" if booking.amount > 0 else "transaction.debit",
                "data": {
                    "transaction_id": booking.transaction_id,
                    "amount": abs(booking.amount),
                    "currency": "VND",
                    "booked_at": booking.booked_at.isoformat(),
                    "description": booking.memo,
                    "account_number": self.account_number,
                },
            },
            ensure_ascii=False,
        ).encode()

    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str = "") -> str:
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.secret).encode(), f"{t}.".encode() + body, hashlib.sha256)
        return f"t={t},v1={mac.hexdigest()}"

    def deliver(self, body: bytes, *, signature: str | None = None) -> Delivery:
        target = urlsplit(self.webhook_url)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Bank-Signature": self.sign(body) if signature is None else signature,
        }
        if self.webhook_host:
            headers["Host"] = self.webhook_host
        conn.request("POST", target.path or "/", body=body, headers=headers)
        response = conn.getresponse()
        delivery = Delivery(response.status, response.read().decode("utf-8", "replace"))
        conn.close()
        self.deliveries.append(delivery)
        return delivery

    def transfer(self, amount: int, memo: str, *, notify: bool = True) -> Booking:
        """A payer's transfer arrives; the bank notifies the webhook (unless ``notify=False``)."""
        booking = self.book(amount, memo)
        if notify and self.webhook_url:
            self.deliver(self.notification(booking))
        return booking

    # --- internet banking's exports ------------------------------------------------------------

    def _rows(self, *, with_reference: bool) -> list[list[str]]:
        rows = [
            ["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"],
            ["Số tài khoản:", self.account_number],
            [],
            ["STT", "Ngày giao dịch", *(["Số tham chiếu"] if with_reference else []),
             "Nội dung", "Ghi nợ", "Ghi có", "Số dư"],
        ]  # fmt: skip
        for i, b in enumerate(self.bookings, start=1):
            credit = f"{b.amount:,}".replace(",", ".") if b.amount > 0 else ""
            debit = f"{-b.amount:,}".replace(",", ".") if b.amount < 0 else ""
            rows.append([
                str(i), b.booked_at.strftime("%d/%m/%Y %H:%M:%S"),
                *([b.transaction_id] if with_reference else []), b.memo, debit, credit,
                f"{b.balance:,}".replace(",", "."),
            ])  # fmt: skip
        rows.append(["", "Tổng cộng", *([""] if with_reference else []), "", "", "", ""])
        return rows

    def statement_csv(self, *, with_reference: bool = True) -> bytes:
        out = io.StringIO()
        csv.writer(out).writerows(self._rows(with_reference=with_reference))
        return out.getvalue().encode("utf-8-sig")

    def statement_xlsx(self, *, with_reference: bool = True) -> bytes:
        import xlsxwriter

        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        sheet = book.add_worksheet("Sao ke")
        for r, row in enumerate(self._rows(with_reference=with_reference)):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        book.close()
        return out.getvalue()

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        with self._lock:
            if method == "GET" and path == f"/v1/accounts/{self.account_number}/transactions":
                return 200, {
                    "transactions": [
                        {"transaction_id": b.transaction_id, "amount": b.amount, "memo": b.memo,
                         "booked_at": b.booked_at.isoformat(), "balance": b.balance}
                        for b in self.bookings
                    ]
                }  # fmt: skip
            return 404, {"error": "not found"}
