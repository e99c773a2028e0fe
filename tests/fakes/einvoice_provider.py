"""A stateful fake e-invoice provider (T-VAN) on loopback, passing invoices to a fake tax
authority: the HTTP shape billing.einvoice.providers.tvan speaks.

``POST /v1/invoices`` (``Authorization: Bearer <token>``, ``Idempotency-Key``,
``{"xml": base64}``): the XML is parsed (no entities, no network), its XMLDSig signature
verified against the trusted CA (the signed data must be ``DLHDon``), then checked as the tax
authority would: required fields, form ``1``, series ``C<yy>T<XX>``, an 8-digit number not used
by another invoice of the series, tax codes, amounts that add up (lines → per rate → totals),
and for a replacement or adjustment an original it knows. Accepted: a 34-character tax authority
code (MCCQT), added to the XML it answers with. Refused: 422 with the reasons. The same key sent
again answers the first result. ``delay_codes`` answers "pending" first; the code comes with a
later ``GET /v1/invoices/<id>``. ``fail_next(n)`` makes the next posts answer 503.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from tests.fakes.base import JsonFakeServer

SERIES = re.compile(r"^C\d{2}T[A-Z]{2}$")
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$|^\d{12}$")
RATES = {"0%": 0, "5%": 5, "8%": 8, "10%": 10, "KCT": 0, "KKKNT": 0}


@dataclass
class Received:
    id: str
    key: str
    series: str
    number: str
    status: str
    code: str = ""
    errors: list[str] = field(default_factory=list)
    xml: bytes = b""
    authority_xml: bytes = b""
    related: dict[str, str] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def _text(node: Any, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _int(value: str) -> int | None:
    try:
        return int(Decimal(value))
    except (ArithmeticError, ValueError):
        return None


class FakeEInvoiceProvider(JsonFakeServer):
    def __init__(self, *, token: str, ca_pem_file: Path | str, port: int = 0) -> None:
        super().__init__(port=port)
        self.token = token
        self.ca_pem_file = str(ca_pem_file)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.invoices: dict[str, Received] = {}
            self.by_key: dict[str, str] = {}
            self.posts = 0
            self.delay_codes = False
            self._failures: list[int] = []
            self._ids = itertools.count(1)

    def fail_next(self, count: int = 1, *, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def numbers(self, series: str) -> list[int]:
        """The accepted numbers of a series, sorted (a test checks there is no gap)."""
        with self._lock:
            return sorted(
                int(r.number)
                for r in self.invoices.values()
                if r.series == series and r.status == "accepted"
            )

    # --- the tax authority's checks ---------------------------------------------------------

    def _check(self, signed: Any) -> tuple[list[str], dict[str, Any]]:
        errors: list[str] = []
        general = signed.find("TTChung")
        content = signed.find("NDHDon")
        if general is None or content is None:
            return ["TTChung and NDHDon are required"], {}
        facts: dict[str, Any] = {
            "form": _text(general, "KHMSHDon"),
            "series": _text(general, "KHHDon"),
            "number": _text(general, "SHDon"),
            "date": _text(general, "NLap"),
        }
        if facts["form"] != "1":
            errors.append("KHMSHDon must be 1 (VAT invoice)")
        if not SERIES.match(facts["series"]):
            errors.append(f"KHHDon {facts['series']!r} is not a series symbol")
        elif facts["date"][2:4] != facts["series"][1:3]:
            errors.append("the series year does not match the date (NLap)")
        if not re.fullmatch(r"\d{8}", facts["number"]) or facts["number"] == "00000000":
            errors.append(f"SHDon {facts['number']!r} is not an 8-digit number")
        if _text(general, "DVTTe") != "VND":
            errors.append("DVTTe must be VND")
        for party, name in (("NBan", "seller"), ("NMua", "buyer")):
            node = content.find(party)
            if node is None or not _text(node, "Ten"):
                errors.append(f"the {name} ({party}) needs a name")
                continue
            if not TAX_CODE.match(_text(node, "MST")):
                errors.append(f"the {name}'s tax code (MST) is invalid")
            if not _text(node, "DChi"):
                errors.append(f"the {name} needs an address")
        items = content.findall("DSHHDVu/HHDVu")
        if not items:
            errors.append("an invoice lists at least one line (DSHHDVu/HHDVu)")
        base_by_rate: dict[str, int] = {}
        for item in items:
            rate, amount = _text(item, "TSuat"), _int(_text(item, "ThTien"))
            if rate not in RATES or amount is None or not _text(item, "THHDVu"):
                errors.append(f"line {_text(item, 'STT')}: name, amount and rate are required")
                continue
            base_by_rate[rate] = base_by_rate.get(rate, 0) + amount
        payment = content.find("TToan")
        if payment is None:
            return [*errors, "TToan is required"], facts
        vat_sum = 0
        for group in payment.findall("THTTLTSuat/LTSuat"):
            rate = _text(group, "TSuat")
            base, vat = _int(_text(group, "ThTien")), _int(_text(group, "TThue"))
            if base is None or vat is None or base != base_by_rate.get(rate):
                errors.append(f"the total at {rate} does not add up its lines")
                continue
            expected = (abs(base) * RATES.get(rate, 0) + 50) // 100
            if abs(vat) != expected:
                errors.append(f"the VAT at {rate} should be {expected}")
            vat_sum += vat
        before, tax = _int(_text(payment, "TgTCThue")), _int(_text(payment, "TgTThue"))
        total = _int(_text(payment, "TgTTTBSo"))
        if before != sum(base_by_rate.values()) or tax != vat_sum:
            errors.append("TgTCThue/TgTThue do not add up the lines and rates")
        if before is None or tax is None or total != before + tax:
            errors.append("TgTTTBSo is not TgTCThue + TgTThue")
        if not _text(payment, "TgTTTBChu"):
            errors.append("the total in words (TgTTTBChu) is required")
        facts["totals"] = {"before": before, "vat": tax, "total": total}
        related = general.find("TTHDLQuan")
        if related is not None:
            link = {
                "kind": _text(related, "TCHDon"),
                "series": _text(related, "KHHDCLQuan"),
                "number": _text(related, "SHDCLQuan"),
                "date": _text(related, "NLHDCLQuan"),
            }
            original = next(
                (r for r in self.invoices.values()
                 if r.series == link["series"] and r.number == link["number"]
                 and r.status == "accepted"),
                None,
            )  # fmt: skip
            if link["kind"] not in ("1", "2") or original is None:
                errors.append("the related invoice (TTHDLQuan) is unknown to the tax authority")
            facts["related"] = link
        return errors, facts

    def _receive(self, key: str, document: bytes) -> Received:
        from billing.einvoice.signing import xml_verify

        ident = f"tvan_{next(self._ids):06d}"
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            etree.fromstring(document, parser)
            signed = xml_verify(document, ca_pem_file=self.ca_pem_file)
        except Exception as exc:  # the fake reports any failure as a refusal
            return Received(ident, key, "", "", "rejected", errors=[f"signature: {exc}"])
        errors, facts = self._check(signed)
        series, number = facts.get("series", ""), facts.get("number", "")
        taken = [
            r for r in self.invoices.values()
            if r.series == series and r.number == number and r.status == "accepted"
        ]  # fmt: skip
        if taken:
            errors.append(f"the number {number} of series {series} is already used")
        received = Received(
            ident, key, series, number, "rejected" if errors else "accepted", errors=errors,
            xml=document, related=facts.get("related", {}), totals=facts.get("totals", {}),
        )  # fmt: skip
        if not errors:
            received.code = "00" + secrets.token_hex(16).upper()  # 34 characters
            root = etree.fromstring(document)
            code = etree.Element("MCCQT")
            code.set("Id", "Id-MCCQT")
            code.text = received.code
            root.find("DLHDon").addnext(code)
            received.authority_xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            if self.delay_codes:
                received.status = "pending"
        return received

    def _answer(self, received: Received) -> tuple[int, Any]:
        body: dict[str, Any] = {"id": received.id, "status": received.status}
        if received.status == "accepted":
            body["tax_authority_code"] = received.code
            body["xml"] = base64.b64encode(received.authority_xml).decode()
        if received.status == "rejected":
            body["errors"] = received.errors
            return 422, body
        return 200, body

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        with self._lock:
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {"error": "invalid token"}
            if method == "GET" and path.startswith("/v1/invoices/"):
                received = self.invoices.get(path.rsplit("/", 1)[1])
                if received is None:
                    return 404, {"error": "not found"}
                if received.status == "pending":
                    received.status = "accepted"  # the tax authority has answered since
                return self._answer(received)
            if method != "POST" or path != "/v1/invoices":
                return 404, {"error": "not found"}
            self.posts += 1
            if self._failures:
                return self._failures.pop(0), {"error": "provider unavailable"}
            key = headers.get("Idempotency-Key") or ""
            if not key:
                return 400, {"error": "Idempotency-Key is required"}
            if key in self.by_key:
                return self._answer(self.invoices[self.by_key[key]])
            try:
                document = base64.b64decode(json.loads(body)["xml"], validate=True)
            except (ValueError, KeyError, TypeError):
                return 400, {"error": 'the body is {"xml": base64}'}
            received = self._receive(key, document)
            self.invoices[received.id] = received
            if received.status != "rejected":
                self.by_key[key] = received.id
            return self._answer(received)
