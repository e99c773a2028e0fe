"""Amounts in Vietnamese words, as an invoice writes its total ("Số tiền viết bằng chữ").

Read by groups of three digits (đơn vị, nghìn, triệu, tỷ; past a tỷ the cycle repeats: nghìn
tỷ, triệu tỷ, tỷ tỷ). Inside a group: "không trăm" when a higher group precedes it, "linh" for a
zero ten followed by a unit (một trăm linh một), "mười" for the ten itself (mười lăm), "mốt" for a
one after a ten from twenty on (hai mươi mốt), "lăm" for a five after any ten (hai mươi lăm).
A group of three zeros is not read (một triệu không trăm linh năm nghìn).
"""

from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUPS = ("", "nghìn", "triệu")
BILLION = 10**9


def _triple(n: int, *, full: bool) -> list[str]:
    """Words of 0 < n < 1000; ``full``: a higher group precedes, so hundreds are always said."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 5 and tens >= 1:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def _below_billion(n: int, *, full: bool) -> list[str]:
    words: list[str] = []
    for power in (2, 1, 0):
        group = n // 1000**power % 1000
        if group:
            words += _triple(group, full=full or bool(words))
            if GROUPS[power]:
                words.append(GROUPS[power])
    return words


def _words(n: int, *, full: bool = False) -> list[str]:
    if n >= BILLION:
        head, rest = divmod(n, BILLION)
        words = [*_words(head, full=full), "tỷ"]
        return words + (_below_billion(rest, full=True) if rest else [])
    return _below_billion(n, full=full)


def number_in_words(n: int) -> str:
    """A whole number ≥ 0 in lower-case Vietnamese words: 25 → "hai mươi lăm"."""
    if n < 0:
        raise ValueError("a negative number has no reading here: read its absolute value")
    return " ".join(_words(n)) if n else DIGITS[0]


def vnd_in_words(amount: int) -> str:
    """An amount of đồng as an invoice writes it: 1005000 → "Một triệu không trăm linh năm nghìn
    đồng"."""
    text = f"{number_in_words(amount)} đồng"
    return text[0].upper() + text[1:]
