"""VAT on invoices: the breakdown per rate, the series symbol and the seller, as the e-invoice
states them (Decree 123/2020/NĐ-CP, Circular 78/2021/TT-BTC).

VAT is computed per rate on the sum of the lines at that rate (``THTTLTSuat`` of the XML), rounded
half up to the đồng, so the invoice's VAT equals the sum of its per-rate VAT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from billing.models import VatRate, vat_percent

# The order rates are listed in (higher first, then 0 % and not subject to VAT).
RATE_ORDER = [VatRate.TEN, VatRate.EIGHT, VatRate.FIVE, VatRate.ZERO, VatRate.KCT]


@dataclass(frozen=True)
class RateTotal:
    rate: str
    base: int
    vat: int

    @property
    def label(self) -> str:
        """``TSuat`` of the XML: "10%", "KCT" (no rate recorded: legacy lines, shown as KCT)."""
        return f"{self.rate}%" if self.rate.isdigit() else "KCT"


@dataclass(frozen=True)
class VatTotals:
    subtotal: int
    vat: int
    by_rate: list[RateTotal]

    @property
    def total(self) -> int:
        return self.subtotal + self.vat


def vat_of(base: int, rate: str) -> int:
    value = Decimal(abs(base)) * vat_percent(rate) / 100
    vat = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return -vat if base < 0 else vat


def vat_totals(lines: Iterable[tuple[int, str]]) -> VatTotals:
    """Totals of (amount before VAT, rate) lines."""
    bases: dict[str, int] = {}
    for amount, rate in lines:
        key = rate or VatRate.KCT
        bases[key] = bases.get(key, 0) + amount
    order: dict[str, int] = {rate: i for i, rate in enumerate(RATE_ORDER)}
    by_rate = [
        RateTotal(rate=rate, base=base, vat=vat_of(base, rate))
        for rate, base in sorted(bases.items(), key=lambda item: order.get(item[0], 99))
    ]
    return VatTotals(
        subtotal=sum(r.base for r in by_rate), vat=sum(r.vat for r in by_rate), by_rate=by_rate
    )


def series_symbol(day: dt.date) -> str:
    """The series of invoices issued on ``day``: C (with the tax authority's code), the year's
    last two digits, T (registered by the seller), then the seller's own two letters."""
    suffix = str(settings.EINVOICE_SERIES_SUFFIX).upper()
    return f"C{day.year % 100:02d}T{suffix}"


def form_symbol() -> str:
    """1: a VAT invoice (hóa đơn giá trị gia tăng)."""
    return str(settings.EINVOICE_FORM_SYMBOL)


@dataclass(frozen=True)
class Seller:
    name: str
    tax_code: str
    address: str
    bank_bin: str
    bank_account: str
    bank_name: str


def seller() -> Seller:
    conf = settings.BILLING_SELLER
    return Seller(
        name=conf["name"],
        tax_code=conf["tax_code"],
        address=conf["address"],
        bank_bin=conf["bank_bin"],
        bank_account=conf["bank_account"],
        bank_name=conf["bank_name"],
    )
