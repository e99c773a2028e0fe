"""VietQR: the NAPAS 247 bank-transfer QR code (an EMVCo merchant-presented QR payload).

The payload is a string of TLV data objects (two-digit ID, two-digit length, value), ending with
a CRC-16/CCITT-FALSE checksum (polynomial 0x1021, initial value 0xFFFF, ISO/IEC 13239) over
everything before it including the ``6304`` of the CRC object itself (EMVCo QRCPS 4.7.3).

- 00 payload format indicator "01"; 01 point of initiation "12" (dynamic: one amount, one bill)
- 38 merchant account information, NAPAS template: 00 AID ``A000000727``; 01 beneficiary
  organisation (00 the bank's 6-digit NAPAS BIN, 01 the account number); 02 service code
  ``QRIBFTTA`` (inter-bank fund transfer 24/7 to an account)
- 53 currency "704" (VND); 54 amount (đồng, no decimals); 58 country "VN"
- 62 additional data: 01 bill number, 08 purpose of the transaction (what banking apps put in the
  transfer's memo)
- 63 CRC

A banking app that scans it fills in the beneficiary, the amount and the memo.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import segno

NAPAS_AID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
CRC_ID = "63"
# EMVCo "ans" characters: printable ASCII. Longer memos than this are cut by the banks.
PURPOSE_MAX = 25
_BIN = re.compile(r"^\d{6}$")
_ACCOUNT = re.compile(r"^[0-9A-Za-z]{1,19}$")


# NAPAS 247 members an agency may hold its fee account at: BIN → the bank's usual name.
# fmt: off
NAPAS_BANKS = {
    "970436": "Vietcombank", "970415": "VietinBank", "970418": "BIDV", "970405": "Agribank",
    "970422": "MB", "970407": "Techcombank", "970416": "ACB", "970432": "VPBank",
    "970423": "TPBank", "970403": "Sacombank", "970437": "HDBank", "970441": "VIB",
    "970443": "SHB", "970431": "Eximbank", "970426": "MSB", "970448": "OCB",
    "970440": "SeABank", "970449": "LPBank",
}
# fmt: on


class VietQRError(ValueError):
    """A payload that cannot be built, or a string that is not a valid VietQR payload."""


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def tlv(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise VietQRError(f"invalid data object id {tag!r}")
    if not 1 <= len(value) <= 99:
        raise VietQRError(f"data object {tag} must hold 1 to 99 characters, not {len(value)}")
    if not value.isascii() or not value.isprintable():
        raise VietQRError(f"data object {tag} must be printable ASCII")
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Append the CRC data object to a payload (``body`` without it)."""
    unsigned = body + CRC_ID + "04"
    return unsigned + f"{crc16_ccitt(unsigned.encode('ascii')):04X}"


def ascii_text(text: str) -> str:
    """What a memo can carry: Vietnamese letters without their marks (đ → d), printable ASCII."""
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join("".join(c for c in plain if c.isprintable()).split())


def vietqr_payload(
    *, bank_bin: str, account: str, amount: int, purpose: str, bill_number: str = ""
) -> str:
    """The payload of a dynamic VietQR for one transfer of ``amount`` đồng to ``account`` at the
    bank ``bank_bin``, whose memo is ``purpose``; ``bill_number`` (62.01) if given."""
    if not _BIN.match(bank_bin):
        raise VietQRError("the bank BIN is six digits")
    if not _ACCOUNT.match(account):
        raise VietQRError("the account number is 1 to 19 letters or digits")
    if amount <= 0 or amount >= 10**13:
        raise VietQRError("the amount must be a positive number of đồng")
    memo = ascii_text(purpose)[:PURPOSE_MAX].strip()
    bill = ascii_text(bill_number)[:PURPOSE_MAX].strip()
    if not memo:
        raise VietQRError("a transfer memo (purpose) is required")
    beneficiary = tlv("00", bank_bin) + tlv("01", account)
    merchant = tlv("00", NAPAS_AID) + tlv("01", beneficiary) + tlv("02", SERVICE_TO_ACCOUNT)
    additional = (tlv("01", bill) if bill else "") + tlv("08", memo)
    body = (
        tlv("00", "01")
        + tlv("01", "12")
        + tlv("38", merchant)
        + tlv("53", CURRENCY_VND)
        + tlv("54", str(amount))
        + tlv("58", COUNTRY_VN)
        + tlv("62", additional)
    )
    return with_crc(body)


def tlv_parse(data: str) -> dict[str, str]:
    """The data objects of one TLV level (ID → value); malformed input raises VietQRError."""
    found: dict[str, str] = {}
    i = 0
    while i < len(data):
        head = data[i : i + 4]
        if len(head) < 4 or not head.isdigit():
            raise VietQRError(f"malformed data object at position {i}")
        length = int(head[2:])
        value = data[i + 4 : i + 4 + length]
        if length == 0 or len(value) != length:
            raise VietQRError(f"data object {head[:2]} is cut short")
        found[head[:2]] = value
        i += 4 + length
    return found


@dataclass(frozen=True)
class VietQR:
    """What a VietQR payload says (the parts this application uses)."""

    bank_bin: str
    account: str
    service: str
    amount: int | None
    currency: str
    country: str
    bill_number: str
    purpose: str


def crc_valid(payload: str) -> bool:
    if len(payload) < 8 or payload[-8:-4] != CRC_ID + "04":
        return False
    try:
        expected = int(payload[-4:], 16)
    except ValueError:
        return False
    return crc16_ccitt(payload[:-4].encode("ascii", "replace")) == expected


def vietqr_parse(payload: str) -> VietQR:
    """Read a VietQR payload back; refuses a wrong checksum or a non-NAPAS merchant template."""
    if not crc_valid(payload):
        raise VietQRError("the CRC does not match")
    root = tlv_parse(payload)
    merchant = tlv_parse(root.get("38", ""))
    if merchant.get("00") != NAPAS_AID:
        raise VietQRError("no NAPAS merchant account template (ID 38)")
    beneficiary = tlv_parse(merchant.get("01", ""))
    extra = tlv_parse(root["62"]) if "62" in root else {}
    amount = root.get("54")
    return VietQR(
        bank_bin=beneficiary.get("00", ""),
        account=beneficiary.get("01", ""),
        service=merchant.get("02", ""),
        amount=int(amount) if amount and amount.isdigit() else None,
        currency=root.get("53", ""),
        country=root.get("58", ""),
        bill_number=extra.get("01", ""),
        purpose=extra.get("08", ""),
    )


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """The QR code as inline SVG markup (no style attribute: fits a strict CSP)."""
    out = io.BytesIO()
    segno.make(payload, error="m").save(
        out, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True, title="VietQR"
    )
    return out.getvalue().decode()
