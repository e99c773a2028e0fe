"""A stateful fake of the National Public Service Portal's payment platform on loopback (the
protocol of billing/gateways/national_platform.py).

``GET /thanh-toan?…`` (a signed payment request) keeps the order and serves a payment page with
"Thanh toán" and "Hủy" buttons; paying posts the signed IPN to the order's ``ipn_url`` (server to
server; a ``*.localhost`` host is reached on 127.0.0.1 with its Host header, as a browser
would) and sends the browser back to ``return_url`` with the signed outcome.
``POST /api/v1/truy-van`` answers an order's status, ``GET /api/v1/doi-soat`` an agency's
reconciliation file of a day. ``pay(order_id)`` pays without a browser and returns the
callback's fields; ``ipn_enabled = False`` loses the notifications (only the file tells);
``ipn_log`` keeps each IPN's URL, HTTP status and our answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import http.client
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from tests.fakes.base import JsonFakeServer

VN = ZoneInfo("Asia/Ho_Chi_Minh")
STAMP = "%Y%m%d%H%M%S"


def _sign(params: dict[str, Any], secret: str) -> str:
    text = "&".join(
        f"{k}={params[k]}" for k in sorted(params) if k != "signature" and str(params[k]) != ""
    )
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


@dataclass
class Order:
    token: str
    request: dict[str, str]
    status: str = "pending"
    transaction_no: str = ""
    paid_at: dt.datetime | None = None
    amount_paid: int | None = None  # what the bank really took (default: the amount asked)

    @property
    def order_id(self) -> str:
        return self.request["order_id"]

    @property
    def agency(self) -> str:
        return self.request.get("agency", "")


class FakeNationalPayment(JsonFakeServer):
    def __init__(self, *, partner: str, secret: str, port: int = 0) -> None:
        super().__init__(port=port)
        self.partner, self.secret = partner, secret
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.orders: dict[str, Order] = {}
            self.ipn_enabled = True
            self.ipn_log: list[tuple[str, int, str]] = []
            self.queries = 0
            self._numbers = itertools.count(1)

    # --- what the platform says ----------------------------------------------------------------

    def outcome(self, order: Order) -> dict[str, str]:
        amount = order.amount_paid if order.amount_paid is not None else order.request["amount"]
        fields = {
            "partner_code": self.partner,
            "order_id": order.order_id,
            "transaction_no": order.transaction_no or "-",
            "amount": str(amount),
            "currency": "VND",
            "status": order.status,
            "paid_at": order.paid_at.astimezone(VN).strftime(STAMP) if order.paid_at else "",
        }
        fields["signature"] = _sign(fields, self.secret)
        return fields

    def pay(
        self, order_id: str, *, amount: int | None = None, notify: bool = True
    ) -> dict[str, str]:
        """The citizen pays (as on the page); returns the signed callback fields."""
        order = self.orders[order_id]
        if order.status == "pending":
            order.status = "paid"
            order.transaction_no = f"DVCQG{next(self._numbers):010d}"
            order.paid_at = dt.datetime.now(tz=VN)
            order.amount_paid = amount
        fields = self.outcome(order)
        if notify and self.ipn_enabled:
            self.send_ipn(order, fields)
        return fields

    def send_ipn(self, order: Order, fields: dict[str, str]) -> None:
        target = urlsplit(order.request["ipn_url"])
        host = target.hostname or ""
        connect = "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host
        connection = http.client.HTTPConnection(connect, target.port or 80, timeout=10)
        try:
            connection.request(
                "POST", target.path or "/", body=json.dumps(fields),
                headers={"Content-Type": "application/json", "Host": target.netloc},
            )  # fmt: skip
            answer = connection.getresponse()
            self.ipn_log.append((order.request["ipn_url"], answer.status, answer.read().decode()))
        except OSError as exc:
            self.ipn_log.append((order.request["ipn_url"], 0, str(exc)))
        finally:
            connection.close()

    def reconciliation_file(self, agency: str, day: dt.date) -> bytes:
        rows = [
            [o.order_id, o.transaction_no, self.outcome(o)["amount"], o.status,
             o.paid_at.astimezone(VN).strftime(STAMP)]
            for o in self.orders.values()
            if o.agency == agency and o.paid_at and o.paid_at.astimezone(VN).date() == day
        ]  # fmt: skip
        total = sum(int(r[2]) for r in rows)
        lines = [f"HDR|1.0|{self.partner}|{agency}|{day:%Y%m%d}|{len(rows)}|{total}"]
        lines += ["|".join(r) for r in rows]
        digest = hmac.new(self.secret.encode(), "\n".join(lines).encode(), hashlib.sha256)
        return ("\n".join([*lines, f"SIG|{digest.hexdigest()}"]) + "\n").encode()

    # --- HTTP ------------------------------------------------------------------------------------

    def _verified(self, params: dict[str, str]) -> bool:
        given = params.get("signature", "")
        return bool(given) and hmac.compare_digest(given, _sign(params, self.secret))

    def _page(self, order: Order) -> bytes:
        amount = f"{int(order.request['amount']):,}".replace(",", ".")
        text = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Nền tảng thanh toán - Cổng Dịch vụ công quốc gia</title></head><body>
<h1>Cổng Dịch vụ công quốc gia - Thanh toán trực tuyến</h1>
<p class="order-info">{html.escape(order.request.get("order_info", ""))}</p>
<p>Số tiền: <strong class="amount">{amount} ₫</strong></p>
<form method="post" action="/thanh-toan/{order.token}/pay">
<button type="submit" id="pay">Thanh toán</button></form>
<form method="post" action="/thanh-toan/{order.token}/cancel">
<button type="submit" id="cancel">Hủy giao dịch</button></form>
</body></html>"""
        return text.encode()

    def respond(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with self._lock:
            if url.path == "/thanh-toan" and method == "GET":
                return self._payment_request(query)
            if url.path.startswith("/thanh-toan/") and method == "POST":
                token, _, action = url.path.removeprefix("/thanh-toan/").partition("/")
                order = next((o for o in self.orders.values() if o.token == token), None)
                if order is None:
                    return 404, {}, {"error": "no such order"}
                if action == "pay":
                    fields = self.pay(order.order_id)
                elif action == "cancel":
                    if order.status == "pending":
                        order.status = "cancelled"
                    fields = self.outcome(order)
                    if self.ipn_enabled:
                        self.send_ipn(order, fields)
                else:
                    return 404, {}, {"error": "not found"}
                back = f"{order.request['return_url']}?{urlencode(fields)}"
                return 302, {"Location": back}, {}
            if url.path == "/api/v1/truy-van" and method == "POST":
                self.queries += 1
                try:
                    params = {k: str(v) for k, v in json.loads(body or b"{}").items()}
                except (ValueError, AttributeError):
                    return 400, {}, {"error": "invalid JSON"}
                if not self._verified(params) or params.get("partner_code") != self.partner:
                    return 401, {}, {"error": "invalid signature"}
                order = self.orders.get(params.get("order_id", ""))
                if order is None:
                    return 404, {}, {"error": "order not found"}
                return 200, {}, self.outcome(order)
            if url.path == "/api/v1/doi-soat" and method == "GET":
                if not self._verified(query) or query.get("partner_code") != self.partner:
                    return 401, {}, {"error": "invalid signature"}
                try:
                    day = dt.datetime.strptime(query.get("date", ""), "%Y%m%d").date()
                except ValueError:
                    return 400, {}, {"error": "invalid date"}
                data = self.reconciliation_file(query.get("agency", ""), day)
                return 200, {"Content-Type": "text/plain; charset=utf-8"}, data
        return 404, {}, {"error": "not found"}

    def _payment_request(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if not self._verified(query):
            return 400, {}, {"error": "invalid signature"}
        if query.get("partner_code") != self.partner:
            return 400, {}, {"error": "unknown partner"}
        required = ("order_id", "amount", "return_url", "ipn_url", "expire_at")
        if any(not query.get(k) for k in required) or not query["amount"].isdigit():
            return 400, {}, {"error": "missing or malformed fields"}
        expires = dt.datetime.strptime(query["expire_at"], STAMP).replace(tzinfo=VN)
        if expires < dt.datetime.now(tz=VN):
            return 400, {}, {"error": "the payment request has expired"}
        order = self.orders.get(query["order_id"])
        if order is None:
            order = Order(token=secrets.token_urlsafe(12), request=dict(query))
            self.orders[order.order_id] = order
        elif order.request["amount"] != query["amount"]:
            return 409, {}, {"error": "order id reused with another amount"}
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self._page(order)
