"""Reading back the PDFs the platform draws, with the standard library only (no PDF library in
the lock): objects, streams (Flate, ASCII85), embedded fonts and the text of each page decoded
through the fonts' ToUnicode maps. Enough for ReportLab's output, not a general PDF reader."""

from __future__ import annotations

import base64
import re
import zlib

OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
REF = rb"(\d+) 0 R"


def objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in OBJ.finditer(pdf)}


def stream(body: bytes) -> bytes:
    head, _, rest = body.partition(b"stream")
    data = rest.lstrip(b"\r\n").rsplit(b"endstream", 1)[0].rstrip(b"\r\n")
    filters = re.findall(rb"/(ASCII85Decode|FlateDecode)", head)
    for name in filters:
        if name == b"ASCII85Decode":
            data = data.strip().removeprefix(b"<~").removesuffix(b"~>")
            data = base64.a85decode(data)
        else:
            data = zlib.decompress(data)
    return data


def _cmap(data: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(start + i)
    return table


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes (escapes resolved)."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C:  # backslash
            i += 1
            nxt = raw[i : i + 1]
            if nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", raw[i:])
                assert digits
                out.append(int(digits.group(), 8))
                i += len(digits.group())
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
        else:
            out.append(c)
        i += 1
    return bytes(out)


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, one line per text-showing operator."""
    objs = objects(pdf)
    texts = []
    for body in objs.values():
        if not re.search(rb"/Type /Page\b", body):
            continue
        fonts_ref = re.search(rb"/Font " + REF, body)
        fonts: dict[bytes, dict[int, str]] = {}
        if fonts_ref:
            for name, num in re.findall(rb"/(\S+) " + REF, objs[int(fonts_ref.group(1))]):
                to_unicode = re.search(rb"/ToUnicode " + REF, objs[int(num)])
                if to_unicode:
                    fonts[name] = _cmap(stream(objs[int(to_unicode.group(1))]))
        contents = re.search(rb"/Contents " + REF, body)
        assert contents, "a page without content"
        content = stream(objs[int(contents.group(1))])
        current: dict[int, str] = {}
        lines = []
        for font, string in re.findall(rb"/(\S+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", content):
            if font:
                current = fonts.get(font, {})
            else:
                lines.append("".join(current.get(b, chr(b)) for b in _literal(string)))
        texts.append("\n".join(lines))
    return texts


def page_contents(pdf: bytes) -> list[bytes]:
    """The decoded content stream of each page (its drawing operators)."""
    objs = objects(pdf)
    return [
        stream(objs[int(ref)])
        for body in objs.values()
        if re.search(rb"/Type /Page\b", body)
        for ref in re.findall(rb"/Contents " + REF, body)
    ]


def embedded_fonts(pdf: bytes) -> list[str]:
    """The names of the fonts whose program is embedded (FontFile2: TrueType)."""
    return [
        m.decode()
        for body in objects(pdf).values()
        if b"/FontFile2" in body
        for m in re.findall(rb"/FontName /(\S+)", body)
    ]


def links(pdf: bytes) -> list[str]:
    """The web addresses the PDF's link annotations open (ReportLab's ``linkURL``), in order."""
    return [m.group(1).decode("latin-1") for m in re.finditer(rb"/URI \(([^)]*)\)", pdf)]
