"""A stateful fake of Stripe's REST API on loopback, for tests without the internet.

It speaks the real protocol (form-encoded bodies with ``a[b][0]`` nesting, ``Authorization:
Bearer``, ``Idempotency-Key`` replays, JSON error objects with the real error types) for the
endpoints MotCua uses, answers with the object shapes of Stripe's published examples
(``../shared/stripe/fixtures3.json``, copied to ``tests/fakes/stripe_fixtures.json``), keeps state,
and records the events Stripe would send; ``deliver`` posts them to a webhook endpoint signed the
Stripe way (``Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "t.payload">``).

Point the ``stripe`` library at it with ``api_base`` / ``base_addresses={"api": fake.url}``.

Billing Meters behave like Stripe's: an event's ``identifier`` is unique only within a rolling
24 hours (a repeat inside the window is ignored, after it counts again), ``Idempotency-Key``s are
forgotten after 24 hours too, ``GET /v1/billing/meters/{id}/event_summaries`` aggregates what was
accepted, and events rejected asynchronously (``reject_async``) are reported by a thin
``v1.billing.meter.error_report_triggered`` event of an event destination (``meter_error_report``)
whose full form is at ``GET /v2/core/events/{id}``. The fake's clock is real time plus
``clock_offset`` (``advance``), so a test can let a day pass for Stripe.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import hashlib
import hmac
import http.client
import itertools
import json
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).with_name("stripe_fixtures.json")
METER_EVENT_MAX_AGE = 35 * 86400
# Stripe enforces a meter event identifier's uniqueness "within a rolling period of at least 24
# hours", and removes idempotency keys once they are at least 24 hours old.
IDENTIFIER_WINDOW = 24 * 3600
IDEMPOTENCY_KEY_TTL = 24 * 3600
SUMMARY_WINDOWS = {"hour": 3600, "day": 86400}


class StripeFail(Exception):
    """An API error, rendered as Stripe renders it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body: dict[str, Any] = {"error": {"type": type_, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def missing(kind: str, object_id: str, param: str = "id") -> StripeFail:
    return StripeFail(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def decode_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=1`` → ``{"a": {"b": [{"c": "1"}]}}``, the way Stripe reads a request."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", raw_key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _int(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeFail(400, f"Missing required param: {name}.", param=name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeFail(400, f"Invalid integer: {value}", param=name) from None


def _iso(unix: int) -> str:
    """Stripe's v2 timestamps: RFC 3339 in UTC with milliseconds, ``2024-09-26T17:46:22.134Z``."""
    moment = datetime.datetime.fromtimestamp(unix, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    return str(value).lower() == "true"


@dataclass
class Delivery:
    event_id: str
    event_type: str
    status: int
    body: str


class FakeStripe:
    """State and behaviour; the HTTP layer is ``_Handler``. Thread-safe (one lock)."""

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        webhook_url: str = "",
        webhook_host: str = "",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.webhook_host = webhook_host
        self.templates: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
        self.lock = threading.RLock()
        self.requested_port = port
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.reset()

    # --- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        with getattr(self, "lock", threading.RLock()):
            self.objects: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
            # identifier -> the latest accepted event with it; every accepted (counted) event.
            self.meter_events: dict[str, dict[str, Any]] = {}
            self.meter_event_log: list[dict[str, Any]] = []
            self.meter_event_posts = 0
            # key -> (request fingerprint, status, answer, stored at)
            self.idempotency: dict[str, tuple[str, int, dict[str, Any], int]] = {}
            self.events: list[dict[str, Any]] = []
            self.v2_events: dict[str, dict[str, Any]] = {}
            self.clock_offset = 0.0
            # Meter events a test wants rejected asynchronously: (code, message) or None.
            self.reject_async: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None
            self.meter_errors: dict[str, list[dict[str, Any]]] = defaultdict(list)
            # Summaries lag behind accepted events by this many seconds (Stripe aggregates async).
            self.aggregation_delay = 0
            # The request is carried out, but its answer is lost (a 500): lose_answer_if(m, p).
            self.lose_answer_if: Callable[[str, str], bool] | None = None
            # An outage: every request answers 503 (and asks the client not to retry at once).
            self.down = False
            self.requests: list[tuple[str, str, str]] = []
            self.fail_next_requests = 0
            self.meter_event_delay = 0.0
            self.duplicate_identifier_error = False
            self.on_request: Callable[[str, str], None] | None = None
            # A test can make chosen calls fail once: fail_if(method, path) -> True fails it.
            self.fail_if: Callable[[str, str], bool] | None = None
            self._ids = itertools.count(1)
            self._last_event_created = 0

    def start(self) -> FakeStripe:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.requested_port), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # --- helpers -----------------------------------------------------------------------------

    def now(self) -> int:
        """Stripe's clock: real time, moved on by ``advance``."""
        return int(time.time() + self.clock_offset)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}{secrets.token_hex(6)}"

    def template(self, kind: str) -> dict[str, Any]:
        return copy.deepcopy(self.templates[kind])

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        try:
            return self.objects[kind][object_id]
        except KeyError:
            raise missing(kind.replace("_", " "), object_id) from None

    def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = self.template("event")
        created = max(self.now(), self._last_event_created + 1)
        self._last_event_created = created
        event.update(
            id=self.new_id("evt"),
            type=event_type,
            created=created,
            api_version="2025-03-31.basil",
            data={"object": copy.deepcopy(obj)},
            livemode=False,
            pending_webhooks=1,
        )
        self.events.append(event)
        return event

    def events_of(self, *types: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e["type"] in types]

    def meter_totals(self) -> dict[tuple[str, str], int]:
        """What Stripe was told: the sum of accepted meter events per (customer, event name),
        an identifier repeated after Stripe's 24-hour window counting again."""
        totals: dict[tuple[str, str], int] = defaultdict(int)
        with self.lock:
            for ev in self.meter_event_log:
                key = (ev["payload"]["stripe_customer_id"], ev["event_name"])
                totals[key] += int(ev["payload"]["value"])
        return dict(totals)

    # --- webhooks ----------------------------------------------------------------------------

    def sign(self, payload: str, *, timestamp: int | None = None, secret: str | None = None) -> str:
        t = int(time.time()) if timestamp is None else timestamp
        key = (secret or self.webhook_secret).encode()
        digest = hmac.new(key, f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
        return f"t={t},v1={digest}"

    def deliver(
        self,
        event: dict[str, Any],
        *,
        url: str | None = None,
        signature: str | None = None,
        payload: str | None = None,
    ) -> Delivery:
        """POST one event to the webhook endpoint, signed (or with the signature given)."""
        body = payload if payload is not None else json.dumps(event, indent=2)
        target = urlsplit(url or self.webhook_url)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature if signature is not None else self.sign(body),
        }
        if self.webhook_host:
            headers["Host"] = self.webhook_host
        conn.request("POST", target.path or "/", body=body.encode(), headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return Delivery(event["id"], event["type"], response.status, text)

    # --- test-side actions (what a payer would do on Stripe's pages) -------------------------

    def invoice_pay(self, invoice_id: str, *, amount: int | None = None) -> dict[str, Any]:
        """The payer pays an open invoice online (``amount`` lets a test fake a wrong sum)."""
        with self.lock:
            invoice = self.get("invoice", invoice_id)
            if invoice["status"] != "open":
                raise StripeFail(400, "Invoice is not open.")
            paid = invoice["amount_due"] if amount is None else amount
            self._invoice_settle(invoice, paid, out_of_band=False)
            self.emit("invoice.payment_succeeded", invoice)
            return copy.deepcopy(invoice)

    def checkout_complete(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            session = self.get("checkout.session", session_id)
            session.update(status="complete", payment_status="paid")
            intent = self._payment_intent_create(
                {"amount": session["amount_total"], "currency": session["currency"],
                 "metadata": session["metadata"]}
            )  # fmt: skip
            intent.update(status="succeeded", amount_received=intent["amount"])
            session["payment_intent"] = intent["id"]
            self.emit("checkout.session.completed", session)
            return copy.deepcopy(session)

    # --- the API -----------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") != self.api_key:
            raise StripeFail(
                401,
                "Invalid API Key provided: " + auth.removeprefix("Bearer ")[:12] + "****",
            )
        params = decode_form(body) if method == "POST" else decode_form(path.partition("?")[2])
        route = path.partition("?")[0]
        key = headers.get("idempotency-key", "")
        with self.lock:
            self.requests.append((method, route, key))
            if self.fail_next_requests > 0 or (self.fail_if and self.fail_if(method, route)):
                self.fail_next_requests = max(0, self.fail_next_requests - 1)
                raise StripeFail(500, "An unknown error occurred", type_="api_error")
            if self.down:
                raise StripeFail(503, "Stripe is unavailable.", type_="api_error",
                                 headers={"Stripe-Should-Retry": "false"})  # fmt: skip
            lose = bool(self.lose_answer_if and self.lose_answer_if(method, route))
            if key and method == "POST":
                fingerprint = f"{route}?{json.dumps(params, sort_keys=True)}"
                stored = self.idempotency.get(key)
                if stored is not None and self.now() - stored[3] >= IDEMPOTENCY_KEY_TTL:
                    del self.idempotency[key]  # Stripe prunes keys at least 24 hours old
                if key in self.idempotency:
                    seen, status, answer, _at = self.idempotency[key]
                    if seen != fingerprint:
                        raise StripeFail(
                            400,
                            "Keys for idempotent requests can only be used with the same"
                            " parameters they were first used with. Try using a key other than"
                            f" '{key}' if you meant to execute a different request.",
                            type_="idempotency_error",
                        )
                    if lose:
                        raise StripeFail(500, "An unknown error occurred", type_="api_error")
                    return status, copy.deepcopy(answer), {"Idempotent-Replayed": "true"}
            answer = self.route(method, route, params)
            if key and method == "POST":
                self.idempotency[key] = (fingerprint, 200, copy.deepcopy(answer), self.now())
            if lose:  # done, but the answer never reaches the client
                raise StripeFail(500, "An unknown error occurred", type_="api_error")
        if self.on_request is not None:
            self.on_request(method, route)
        return 200, answer, {}

    def route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if parts[:3] == ["v2", "core", "events"] and len(parts) == 4 and method == "GET":
            event = self.v2_events.get(parts[3])
            if event is None:
                raise missing("event", parts[3])
            return copy.deepcopy(event)
        if parts[0] != "v1":
            raise StripeFail(404, f"Unrecognized request URL ({method}: {path}).")
        parts = parts[1:]
        table: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
            ("POST", "customers", self._customer_create),
            ("GET", "customers/*", lambda p, i: self.get("customer", i)),
            ("POST", "products", self._product_create),
            ("POST", "prices", self._price_create),
            ("GET", "prices/*", lambda p, i: self.get("price", i)),
            ("POST", "billing/meters", self._meter_create),
            ("GET", "billing/meters", self._meter_list),
            ("POST", "billing/meter_events", self._meter_event_create),
            ("GET", "billing/meters/*/event_summaries", self._meter_event_summaries),
            ("POST", "subscriptions", self._subscription_create),
            ("GET", "subscriptions/*", lambda p, i: self.get("subscription", i)),
            ("POST", "subscriptions/*", self._subscription_update),
            ("DELETE", "subscriptions/*", self._subscription_cancel),
            ("POST", "invoices", self._invoice_create),
            ("GET", "invoices/*", lambda p, i: self.get("invoice", i)),
            ("POST", "invoiceitems", self._invoiceitem_create),
            ("POST", "invoices/*/finalize", self._invoice_finalize),
            ("POST", "invoices/*/send", self._invoice_send),
            ("POST", "invoices/*/pay", self._invoice_pay_api),
            ("POST", "checkout/sessions", self._checkout_create),
            ("GET", "checkout/sessions/*", lambda p, i: self.get("checkout.session", i)),
            ("POST", "payment_intents", lambda p: self._payment_intent_create(p)),
            ("GET", "payment_intents/*", lambda p, i: self.get("payment_intent", i)),
        ]
        for verb, pattern, fn in table:
            pattern_parts = pattern.split("/")
            if verb != method or len(pattern_parts) != len(parts):
                continue
            ids = [p for p, q in zip(parts, pattern_parts, strict=True) if q == "*"]
            if all(q in ("*", p) for p, q in zip(parts, pattern_parts, strict=True)):
                return copy.deepcopy(fn(params, *ids))
        raise StripeFail(404, f"Unrecognized request URL ({method}: {path}).")

    # customers, products, prices, meters

    def _customer_create(self, p: dict[str, Any]) -> dict[str, Any]:
        obj = self.template("customer")
        address = {**obj["address"], **p.get("address", {})}
        obj.update(
            id=self.new_id("cus"), created=self.now(), name=p.get("name"),
            email=p.get("email"), metadata=p.get("metadata", {}), address=address,
            preferred_locales=p.get("preferred_locales", []), discount=None, currency=None,
            invoice_prefix=secrets.token_hex(4).upper(),
        )  # fmt: skip
        self.objects["customer"][obj["id"]] = obj
        self.emit("customer.created", obj)
        return obj

    def _product_create(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("name"):
            raise StripeFail(400, "Missing required param: name.", param="name")
        obj = self.template("product")
        obj.update(
            id=self.new_id("prod"), created=self.now(), name=p["name"],
            metadata=p.get("metadata", {}), default_price=None, description=None,
            package_dimensions=None, type="service",
        )  # fmt: skip
        self.objects["product"][obj["id"]] = obj
        return obj

    def _price_create(self, p: dict[str, Any]) -> dict[str, Any]:
        product = p.get("product")
        if not product:
            raise StripeFail(400, "Missing required param: product.", param="product")
        self.get("product", product)
        currency = str(p.get("currency", ""))
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeFail(400, "Invalid currency: " + currency, param="currency")
        recurring = p.get("recurring")
        obj = self.template("price")
        obj.update(
            id=self.new_id("price"), created=self.now(), product=product,
            currency=currency, nickname=p.get("nickname"), metadata=p.get("metadata", {}),
            billing_scheme=p.get("billing_scheme", "per_unit"), tiers_mode=p.get("tiers_mode"),
            unit_amount=_int(p, "unit_amount"), transform_quantity=None,
            type="recurring" if recurring else "one_time",
        )  # fmt: skip
        unit = obj["unit_amount"]
        obj["unit_amount_decimal"] = str(unit) if unit is not None else p.get("unit_amount_decimal")
        if obj["billing_scheme"] == "tiered":
            tiers = p.get("tiers") or []
            if not tiers or obj["tiers_mode"] not in ("graduated", "volume"):
                raise StripeFail(400, "Tiered prices need tiers and tiers_mode.", param="tiers")
            obj["tiers"] = [
                {"up_to": None if t.get("up_to") == "inf" else int(t["up_to"]),
                 "unit_amount": _int(t, "unit_amount"),
                 "unit_amount_decimal": t.get("unit_amount_decimal") or t.get("unit_amount"),
                 "flat_amount": None, "flat_amount_decimal": None}
                for t in tiers
            ]  # fmt: skip
        elif obj["unit_amount"] is None and obj["unit_amount_decimal"] is None:
            raise StripeFail(400, "Missing required param: unit_amount.", param="unit_amount")
        if recurring:
            usage_type = recurring.get("usage_type", "licensed")
            meter = recurring.get("meter")
            if usage_type == "metered":
                if not meter:
                    raise StripeFail(
                        400, "Metered prices must be backed by a meter.", param="recurring[meter]"
                    )
                self.get("billing.meter", meter)
            obj["recurring"] = {
                "interval": recurring.get("interval", "month"),
                "interval_count": int(recurring.get("interval_count", 1)),
                "meter": meter, "usage_type": usage_type, "trial_period_days": None,
            }  # fmt: skip
        else:
            obj["recurring"] = None
        self.objects["price"][obj["id"]] = obj
        return obj

    def _meter_create(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p.get("event_name", "")
        if not name or not p.get("display_name"):
            raise StripeFail(400, "Missing required param: event_name.", param="event_name")
        for meter in self.objects["billing.meter"].values():
            if meter["event_name"] == name and meter["status"] == "active":
                raise StripeFail(
                    400,
                    f"An active meter with event_name `{name}` already exists.",
                    param="event_name",
                )
        obj = self.template("billing.meter")
        obj.update(
            id=self.new_id("mtr"), created=self.now(), updated=self.now(),
            display_name=p["display_name"], event_name=name, livemode=False,
            default_aggregation=p.get("default_aggregation", {"formula": "sum"}),
            customer_mapping={"event_payload_key": "stripe_customer_id", "type": "by_id",
                              **p.get("customer_mapping", {})},
            value_settings={"event_payload_key": "value", **p.get("value_settings", {})},
        )  # fmt: skip
        self.objects["billing.meter"][obj["id"]] = obj
        return obj

    def _meter_list(self, p: dict[str, Any]) -> dict[str, Any]:
        data = [
            m
            for m in self.objects["billing.meter"].values()
            if p.get("status") in (None, m["status"])
        ]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/billing/meters"}

    def _meter_event_create(self, p: dict[str, Any]) -> dict[str, Any]:
        self.meter_event_posts += 1
        if self.meter_event_delay:
            self.lock.release()
            try:
                time.sleep(self.meter_event_delay)
            finally:
                self.lock.acquire()
        name = p.get("event_name", "")
        meter = next(
            (m for m in self.objects["billing.meter"].values()
             if m["event_name"] == name and m["status"] == "active"),
            None,
        )  # fmt: skip
        if meter is None:
            raise StripeFail(400, f"No active meter found for event_name `{name}`.")
        payload = p.get("payload") or {}
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        self.get("customer", str(payload.get(customer_key, "")))
        try:
            value = Decimal(str(payload.get(value_key)))
        except InvalidOperation:
            raise StripeFail(400, "The meter event value must be a number.") from None
        if value != value.to_integral_value():
            raise StripeFail(400, "The meter event value must be a whole number.")
        now = self.now()
        timestamp = _int(p, "timestamp") or now
        if timestamp < now - METER_EVENT_MAX_AGE or timestamp > now + 300:
            raise StripeFail(
                400,
                "The timestamp must be within the past 35 calendar days or up to 5 minutes"
                " in the future.",
                param="timestamp",
            )
        identifier = p.get("identifier") or self.new_id("mev")
        previous = self.meter_events.get(identifier)
        if previous is not None and now - previous["created"] < IDENTIFIER_WINDOW:
            if self.duplicate_identifier_error:
                raise StripeFail(
                    400,
                    f"An event with identifier `{identifier}` already exists.",
                    param="identifier",
                )
            return previous
        obj = self.template("billing.meter_event")
        obj.update(
            created=now, event_name=name, identifier=identifier, livemode=False,
            payload={k: str(v) for k, v in payload.items()}, timestamp=timestamp,
        )  # fmt: skip
        rejected = self.reject_async(copy.deepcopy(obj)) if self.reject_async else None
        if rejected is not None:
            # Accepted now, refused by the asynchronous validation: never counted, reported later.
            code, message = rejected
            self.meter_errors[meter["id"]].append(
                {"identifier": identifier, "code": code, "message": message, "at": now}
            )
            return obj
        self.meter_events[identifier] = obj
        self.meter_event_log.append(obj)
        return obj

    def _meter_event_summaries(self, p: dict[str, Any], meter_id: str) -> dict[str, Any]:
        meter = self.get("billing.meter", meter_id)
        customer = p.get("customer")
        if not customer:
            raise StripeFail(400, "Missing required param: customer.", param="customer")
        self.get("customer", str(customer))
        start = _int(p, "start_time", required=True)
        end = _int(p, "end_time", required=True)
        assert start is not None and end is not None
        for name, value in (("start_time", start), ("end_time", end)):
            if value % 60:
                raise StripeFail(400, f"{name} must be aligned with minute boundaries.", param=name)
        if end <= start:
            raise StripeFail(400, "end_time must be after start_time.", param="end_time")
        grouping = p.get("value_grouping_window")
        if grouping is not None and grouping not in SUMMARY_WINDOWS:
            raise StripeFail(
                400, f"Invalid value_grouping_window: {grouping}", param="value_grouping_window"
            )
        step = SUMMARY_WINDOWS[grouping] if grouping else end - start
        if grouping and (start % step or end % step):
            raise StripeFail(
                400, f"start_time and end_time must be aligned with the {grouping}.",
                param="start_time",
            )  # fmt: skip
        settled = self.now() - self.aggregation_delay
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        formula = meter["default_aggregation"]["formula"]
        data = []
        for bucket in range(start, end, step):
            events = sorted(
                (e for e in self.meter_event_log
                 if e["event_name"] == meter["event_name"]
                 and e["payload"].get(customer_key) == customer
                 and bucket <= e["timestamp"] < bucket + step and e["created"] <= settled),
                key=lambda e: (e["timestamp"], e["created"]),
            )  # fmt: skip
            values = [float(Decimal(e["payload"][value_key])) for e in events]
            if formula == "count":
                aggregated = float(len(values))
            elif formula == "last":
                aggregated = values[-1] if values else 0.0
            else:
                aggregated = sum(values)
            summary = self.template("billing.meter_event_summary")
            summary.update(
                id=f"mtrusg_{meter_id}_{customer}_{bucket}_{bucket + step}",
                aggregated_value=aggregated, start_time=bucket, end_time=bucket + step,
                meter=meter_id, livemode=False,
            )  # fmt: skip
            data.append(summary)
        after = p.get("starting_after")
        if after:
            ids = [d["id"] for d in data]
            data = data[ids.index(after) + 1 :] if after in ids else []
        limit = _int(p, "limit") or 10
        if not 1 <= limit <= 100:
            raise StripeFail(400, "limit must be between 1 and 100.", param="limit")
        return {"object": "list", "data": data[:limit], "has_more": len(data) > limit,
                "url": f"/v1/billing/meters/{meter_id}/event_summaries"}  # fmt: skip

    def meter_error_report(self, *, sample_limit: int = 3) -> list[dict[str, Any]]:
        """Stripe's asynchronous validation reports: one thin event per meter with rejected
        events since the last report (a few sampled identifiers, and the total count)."""
        with self.lock:
            thin_events = []
            for meter_id, errors in sorted(self.meter_errors.items()):
                if not errors:
                    continue
                by_code: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for error in errors:
                    by_code[error["code"]].append(error)
                count = len(errors)
                data = {
                    "developer_message_summary": f"There {'is' if count == 1 else 'are'}"
                    f" {count} invalid event{'' if count == 1 else 's'}",
                    "reason": {
                        "error_count": count,
                        "error_types": [
                            {"code": code, "error_count": len(items),
                             "sample_errors": [
                                 {"error_message": e["message"],
                                  "request": {"identifier": e["identifier"]}}
                                 for e in items[:sample_limit]]}
                            for code, items in sorted(by_code.items())
                        ],
                    },
                    "validation_start": _iso(min(e["at"] for e in errors)),
                    "validation_end": _iso(max(e["at"] for e in errors) + 1),
                }  # fmt: skip
                related = {"id": meter_id, "type": "billing.meter",
                           "url": f"/v1/billing/meters/{meter_id}"}  # fmt: skip
                thin_events.append(
                    self.emit_thin("v1.billing.meter.error_report_triggered", related, data)
                )
            self.meter_errors.clear()
            return thin_events

    def emit_thin(
        self, event_type: str, related_object: dict[str, Any] | None, data: dict[str, Any]
    ) -> dict[str, Any]:
        """An event of an event destination: the thin notification (delivered, in ``events``)
        holds no data; the full event is fetched at ``GET /v2/core/events/{id}``."""
        event_id = "evt_test_" + secrets.token_hex(20)
        thin: dict[str, Any] = {
            "id": event_id, "object": "v2.core.event",
            "type": event_type, "livemode": False, "created": _iso(self.now()),
            "context": None, "reason": None, "related_object": related_object,
        }  # fmt: skip
        self.v2_events[event_id] = {**copy.deepcopy(thin), "data": copy.deepcopy(data)}
        self.events.append(thin)
        return thin

    # subscriptions

    def _subscription_create(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self.get("customer", str(p.get("customer", "")))
        items = p.get("items") or []
        if not items:
            raise StripeFail(400, "Missing required param: items.", param="items")
        obj = self.template("subscription")
        sub_id = self.new_id("sub")
        now = self.now()
        data = []
        for item in items:
            price = self.get("price", str(item.get("price", "")))
            entry = self.template("subscription")["items"]["data"][0]
            entry.update(
                id=self.new_id("si"), created=now, price=copy.deepcopy(price),
                quantity=None if price["recurring"]["usage_type"] == "metered" else
                int(item.get("quantity", 1)),
                subscription=sub_id, current_period_start=now, current_period_end=now + 30 * 86400,
            )  # fmt: skip
            entry.pop("plan", None)
            data.append(entry)
        currencies = {d["price"]["currency"] for d in data}
        if len(currencies) != 1:
            raise StripeFail(400, "All prices on a subscription must have the same currency.")
        collection = p.get("collection_method", "charge_automatically")
        if collection == "send_invoice" and _int(p, "days_until_due") is None:
            raise StripeFail(400, "Missing required param: days_until_due.")
        obj.update(
            id=sub_id, created=now, customer=customer["id"], currency=currencies.pop(),
            status="active", collection_method=collection,
            days_until_due=_int(p, "days_until_due"), metadata=p.get("metadata", {}),
            pause_collection=p.get("pause_collection"), cancel_at=None, canceled_at=None,
            ended_at=None, billing_cycle_anchor=now, latest_invoice=None,
            items={"object": "list", "data": data, "has_more": False,
                   "url": f"/v1/subscription_items?subscription={sub_id}"},
        )  # fmt: skip
        self.objects["subscription"][sub_id] = obj
        self.emit("customer.subscription.created", obj)
        return obj

    def _subscription_update(self, p: dict[str, Any], sub_id: str) -> dict[str, Any]:
        obj = self.get("subscription", sub_id)
        if obj["status"] == "canceled":
            raise StripeFail(
                400, "A canceled subscription can only update its cancellation_details."
            )
        if "cancel_at" in p:
            obj["cancel_at"] = _int(p, "cancel_at")
        for field in ("metadata", "pause_collection"):
            if field in p:
                obj[field] = p[field] or None
        self.emit("customer.subscription.updated", obj)
        return obj

    def _subscription_cancel(self, p: dict[str, Any], sub_id: str) -> dict[str, Any]:
        obj = self.get("subscription", sub_id)
        now = self.now()
        obj.update(status="canceled", canceled_at=now, ended_at=now)
        self.emit("customer.subscription.deleted", obj)
        return obj

    # invoices

    def _invoice_create(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self.get("customer", str(p.get("customer", "")))
        collection = p.get("collection_method", "charge_automatically")
        if (
            collection == "send_invoice"
            and _int(p, "days_until_due") is None
            and not p.get("due_date")
        ):
            raise StripeFail(
                400, "Invoices with collection_method=send_invoice need days_until_due or due_date."
            )
        now = self.now()
        obj = self.template("invoice")
        obj.update(
            id=self.new_id("in"), created=now, customer=customer["id"],
            currency=p.get("currency", "usd"), collection_method=collection,
            auto_advance=_bool(p.get("auto_advance")), status="draft", number=None,
            description=p.get("description"), metadata=p.get("metadata", {}),
            custom_fields=p.get("custom_fields"), customer_email=customer.get("email"),
            customer_name=customer.get("name"), amount_due=0, amount_paid=0, amount_remaining=0,
            subtotal=0, total=0, attempted=False, attempt_count=0,
            due_date=now + 86400 * (_int(p, "days_until_due") or 0), billing_reason="manual",
            hosted_invoice_url=None, invoice_pdf=None, last_finalization_error=None,
            from_invoice=None, subscription=None, effective_at=None, next_payment_attempt=None,
            status_transitions={"finalized_at": None, "marked_uncollectible_at": None,
                                "paid_at": None, "voided_at": None},
            lines={"object": "list", "data": [], "has_more": False, "url": ""},
        )  # fmt: skip
        obj["lines"]["url"] = f"/v1/invoices/{obj['id']}/lines"
        self.objects["invoice"][obj["id"]] = obj
        self.emit("invoice.created", obj)
        return obj

    def _invoiceitem_create(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self.get("customer", str(p.get("customer", "")))
        invoice = self.get("invoice", str(p.get("invoice", "")))
        if invoice["status"] != "draft":
            raise StripeFail(400, "You can only add invoice items to draft invoices.")
        if invoice["customer"] != customer["id"]:
            raise StripeFail(400, "The invoice belongs to another customer.", param="invoice")
        amount = _int(p, "amount", required=True)
        assert amount is not None
        if p.get("currency", invoice["currency"]) != invoice["currency"]:
            raise StripeFail(400, "The currency must match the invoice's.", param="currency")
        item_id = self.new_id("ii")
        line = self.template("invoice")["lines"]["data"][0]
        line.update(
            id=self.new_id("il"), amount=amount, currency=invoice["currency"],
            description=p.get("description"), invoice=invoice["id"],
            metadata=p.get("metadata", {}), quantity=1, subtotal=amount,
            period={"start": self.now(), "end": self.now()},
            parent={"type": "invoice_item_details", "subscription_item_details": None,
                    "invoice_item_details": {"invoice_item": item_id, "proration": False,
                                             "proration_details": None, "subscription": None}},
        )  # fmt: skip
        invoice["lines"]["data"].append(line)
        total = sum(int(x["amount"]) for x in invoice["lines"]["data"])
        invoice.update(subtotal=total, total=total, amount_due=total, amount_remaining=total)
        item = self.template("invoiceitem") if "invoiceitem" in self.templates else {}
        item.update(
            id=item_id, object="invoiceitem", amount=amount, currency=invoice["currency"],
            customer=customer["id"], invoice=invoice["id"], description=p.get("description"),
            metadata=p.get("metadata", {}),
        )  # fmt: skip
        self.objects["invoiceitem"][item_id] = item
        return item

    def _invoice_finalize(self, p: dict[str, Any], invoice_id: str) -> dict[str, Any]:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] != "draft":
            raise StripeFail(400, "This invoice is already finalized, you can't re-finalize"
                             " a non-draft invoice.")  # fmt: skip
        customer = self.get("customer", invoice["customer"])
        sequence = customer.get("next_invoice_sequence", 1)
        customer["next_invoice_sequence"] = sequence + 1
        now = self.now()
        invoice.update(
            status="open", number=f"{customer['invoice_prefix']}-{sequence:04d}",
            auto_advance=_bool(p.get("auto_advance"), invoice["auto_advance"]),
            effective_at=now, hosted_invoice_url=f"https://invoice.stripe.com/i/{invoice_id}",
            invoice_pdf=f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
        )  # fmt: skip
        invoice["status_transitions"]["finalized_at"] = now
        self.emit("invoice.finalized", invoice)
        return invoice

    def _invoice_send(self, p: dict[str, Any], invoice_id: str) -> dict[str, Any]:
        invoice = self.get("invoice", invoice_id)
        if invoice["collection_method"] != "send_invoice":
            raise StripeFail(400, "You can only manually send an invoice if its collection"
                             " method is 'send_invoice'.")  # fmt: skip
        if invoice["status"] != "open":
            raise StripeFail(400, "You can only send an open invoice.")
        self.emit("invoice.sent", invoice)
        return invoice

    def _invoice_pay_api(self, p: dict[str, Any], invoice_id: str) -> dict[str, Any]:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] == "paid":
            raise StripeFail(400, "Invoice is already paid", code="invoice_already_paid")
        if invoice["status"] != "open":
            raise StripeFail(400, "You can only pay an open invoice.")
        if not _bool(p.get("paid_out_of_band")):
            raise StripeFail(
                402,
                "This customer has no attached payment source or default payment method.",
                type_="card_error",
                code="invoice_no_customer_line_items",
            )
        self._invoice_settle(invoice, invoice["amount_due"], out_of_band=True)
        return invoice

    def _invoice_settle(self, invoice: dict[str, Any], paid: int, *, out_of_band: bool) -> None:
        now = self.now()
        # API 2025-03-31.basil dropped the invoice's paid_out_of_band flag; money received
        # elsewhere is not money Stripe saw, so nothing counts as paid through Stripe.
        invoice.update(
            status="paid", amount_paid=0 if out_of_band else paid, amount_remaining=0,
            attempted=not out_of_band, attempt_count=0 if out_of_band else 1,
        )  # fmt: skip
        invoice["status_transitions"]["paid_at"] = now
        self.emit("invoice.paid", invoice)

    # citizen fees

    def _checkout_create(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("mode") != "payment":
            raise StripeFail(400, "Only mode=payment is supported by this fake.", param="mode")
        for name in ("success_url", "line_items"):
            if not p.get(name):
                raise StripeFail(400, f"Missing required param: {name}.", param=name)
        total, currencies = 0, set()
        for item in p["line_items"]:
            data = item.get("price_data") or {}
            amount = _int(data, "unit_amount", required=True) or 0
            currencies.add(data.get("currency"))
            total += amount * int(item.get("quantity", 1))
        if len(currencies) != 1:
            raise StripeFail(400, "All line items must have the same currency.")
        obj = self.template("checkout.session")
        session_id = "cs_test_" + secrets.token_hex(24)
        now = self.now()
        obj.update(
            id=session_id, created=now, expires_at=_int(p, "expires_at") or now + 86400,
            amount_subtotal=total, amount_total=total, currency=currencies.pop(),
            client_reference_id=p.get("client_reference_id"), metadata=p.get("metadata", {}),
            success_url=p["success_url"], cancel_url=p.get("cancel_url"), locale=p.get("locale"),
            payment_intent=None, payment_status="unpaid", status="open", customer=None,
            url=f"https://checkout.stripe.com/c/pay/{session_id}", shipping_cost=None,
            shipping_address_collection=None, total_details={"amount_discount": 0,
                                                             "amount_shipping": 0,
                                                             "amount_tax": 0},
        )  # fmt: skip
        self.objects["checkout.session"][session_id] = obj
        return obj

    def _payment_intent_create(self, p: dict[str, Any]) -> dict[str, Any]:
        amount = _int(p, "amount", required=True)
        obj = self.template("payment_intent")
        obj.update(
            id=self.new_id("pi"), created=self.now(), amount=amount,
            currency=p.get("currency"), metadata=p.get("metadata", {}),
            status="requires_payment_method", canceled_at=None, last_payment_error=None,
            next_action=None, processing=None, transfer_data=None,
        )  # fmt: skip
        obj["client_secret"] = f"{obj['id']}_secret_{secrets.token_hex(12)}"
        self.objects["payment_intent"][obj["id"]] = obj
        return obj


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return

    def _serve(self, method: str) -> None:
        fake: FakeStripe = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        extra: dict[str, str] = {}
        try:
            status, answer, extra = fake.handle(method, self.path, headers, body)
        except StripeFail as exc:
            status, answer, extra = exc.status, exc.body, exc.headers
        except Exception as exc:  # a bug in the fake: say so like Stripe would
            status, answer = 500, {"error": {"type": "api_error", "message": repr(exc)}}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(8))
        self.send_header("Stripe-Version", "2025-03-31.basil")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a killed client
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
