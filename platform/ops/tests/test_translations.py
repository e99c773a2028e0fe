"""The translation catalogs are complete, and contributed JSON maps merge into them safely."""

from __future__ import annotations

import gettext
import json
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.core.management import CommandError, call_command

from ops.translations import (
    Catalog,
    all_catalogs,
    allauth_catalogs,
    allauth_msgids,
    apply_translations,
    placeholders,
)


def test_check_translations_passes() -> None:
    out = StringIO()
    call_command("check_translations", stdout=out, stderr=StringIO())
    assert "translations complete" in out.getvalue()


def make_catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog("scratch", tmp_path / "locale", "vi")
    catalog.po_path.parent.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": "vi",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    po.append(polib.POEntry(msgid="Hello %(name)s", msgstr=""))
    po.append(polib.POEntry(msgid="Save", msgstr="Đăng xuất", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Cancel", msgstr="Hủy"))
    po.append(polib.POEntry(msgid="Tokens {seq} and %s", msgstr=""))
    po.append(polib.POEntry(msgctxt="date label", msgid="Received", msgstr=""))
    po.append(polib.POEntry(msgid="Received", msgstr=""))
    po.append(polib.POEntry(msgid="%(n)s file", msgid_plural="%(n)s files", msgstr_plural={0: ""}))
    po.save(str(catalog.po_path))
    po.save_as_mofile(str(catalog.mo_path))
    return catalog


def compiled(catalog: Catalog) -> dict[object, str]:
    """The .mo as a dict: key "ctx\\x04msgid", or (msgid, n) for plurals.

    (Not .gettext() calls: makemessages would extract these test msgids.)
    """
    with catalog.mo_path.open("rb") as fh:
        return gettext.GNUTranslations(fh)._catalog


def test_untranslated_and_fuzzy_entries_take_the_translation(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    report = apply_translations(
        [
            {
                "Hello %(name)s": "Xin chào %(name)s",
                "Save": "Lưu",
                "Tokens {seq} and %s": "Thành phần {seq} và %s",
                "date label\x04Received": "Ngày tiếp nhận",
                "Received": "Đã tiếp nhận",
                "%(n)s file": "%(n)s tệp",
            }
        ],
        catalogs=[catalog],
    )
    assert sorted(report.applied) == sorted(
        [
            "Hello %(name)s",
            "Save",
            "Tokens {seq} and %s",
            "date label\x04Received",
            "Received",
            "%(n)s file",
        ]
    )
    assert not (report.conflicts or report.not_found or report.mismatched)
    po = polib.pofile(str(catalog.po_path))
    assert not po.fuzzy_entries() and not po.untranslated_entries()
    mo = compiled(catalog)
    assert mo["Save"] == "Lưu"
    assert mo["date label\x04Received"] == "Ngày tiếp nhận"
    assert mo["Received"] == "Đã tiếp nhận"
    assert mo[("%(n)s file", 0)] == "%(n)s tệp"


def test_conflicts_keep_the_existing_translation_unless_forced(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    report = apply_translations([{"Cancel": "Thôi", "Nope": "Không"}], catalogs=[catalog])
    assert [(c.msgid, c.existing, c.proposed) for c in report.conflicts] == [
        ("Cancel", "Hủy", "Thôi")
    ]
    assert report.not_found == ["Nope"]
    assert compiled(catalog)["Cancel"] == "Hủy"

    same = apply_translations([{"Cancel": "Hủy"}], catalogs=[catalog])
    assert same.unchanged == ["Cancel"] and not same.conflicts

    forced = apply_translations([{"Cancel": "Thôi"}], catalogs=[catalog], force=True)
    assert [c.msgid for c in forced.overwritten] == ["Cancel"]
    assert compiled(catalog)["Cancel"] == "Thôi"


def test_a_later_file_conflicts_with_an_earlier_one(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    report = apply_translations([{"Save": "Lưu"}, {"Save": "Ghi lại"}], catalogs=[catalog])
    assert report.applied == ["Save"] and [c.proposed for c in report.conflicts] == ["Ghi lại"]
    assert compiled(catalog)["Save"] == "Lưu"


@pytest.mark.parametrize(
    ("msgid", "wrong"),
    [
        ("Hello %(name)s", "Xin chào %(ten)s"),
        ("Hello %(name)s", "Xin chào"),
        ("Tokens {seq} and %s", "Thành phần {so} và %s"),
        ("Tokens {seq} and %s", "Thành phần {seq} và %d"),
        ("%(n)s file", "tệp"),
        ("Save", "   "),
    ],
)
def test_placeholder_mismatches_are_refused_and_nothing_is_written(
    tmp_path: Path, msgid: str, wrong: str
) -> None:
    catalog = make_catalog(tmp_path)
    before = catalog.po_path.read_bytes(), catalog.mo_path.read_bytes()
    report = apply_translations([{"Save": "Lưu", msgid: wrong}], catalogs=[catalog])
    assert report.mismatched and report.mismatched[0].startswith(msgid)
    assert (catalog.po_path.read_bytes(), catalog.mo_path.read_bytes()) == before


def test_placeholders_are_counted() -> None:
    assert placeholders("%(a)s %(a)s %d {x} 100%% done") == placeholders("{x} %d %(a)s, %(a)s")
    assert placeholders("100%% done") == placeholders("xong")
    assert placeholders("%(a)s") != placeholders("%(a)d")


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    before = catalog.po_path.read_bytes()
    report = apply_translations([{"Save": "Lưu"}], catalogs=[catalog], dry_run=True)
    assert report.applied == ["Save"]
    assert catalog.po_path.read_bytes() == before


def snapshot() -> list[bytes]:
    return [p.read_bytes() for c in all_catalogs() for p in (c.po_path, c.mo_path)]


def test_the_command_reports_conflicts_and_unknown_msgids(tmp_path: Path) -> None:
    before = snapshot()
    contributed = tmp_path / "desk.json"
    contributed.write_text(
        json.dumps({"Save": "Ghi", "Not a msgid anywhere": "Không có"}), encoding="utf-8"
    )
    out, err = StringIO(), StringIO()
    call_command("translations", "--apply", str(contributed), stdout=out, stderr=err)
    assert "kept the existing translation of 'Save'" in err.getvalue()
    assert "not in any catalog" in err.getvalue() and "Not a msgid anywhere" in err.getvalue()
    assert "1 conflict(s), 1 not found" in out.getvalue()
    assert snapshot() == before


def test_the_command_refuses_bad_files_and_placeholder_mismatches(tmp_path: Path) -> None:
    before = snapshot()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read it as JSON"):
        call_command("translations", "--apply", str(broken))
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"Save": {"vi": "Lưu"}}), encoding="utf-8")
    with pytest.raises(CommandError, match="must be a string"):
        call_command("translations", "--apply", str(nested))
    mismatched = tmp_path / "mismatched.json"
    mismatched.write_text(
        json.dumps({"Choose a date between %(start)s and %(end)s.": "Chọn ngày %(start)s."}),
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command(
            "translations", "--apply", str(mismatched), "--force", stdout=StringIO(), stderr=err
        )
    assert "placeholders differ" in err.getvalue()
    assert snapshot() == before


def test_the_allauth_catalog_covers_what_our_pages_show() -> None:
    wanted = allauth_msgids()
    assert wanted is not None  # the installed allauth ships its English catalog
    for shown in ("Forgot your password?", "field label\x04Login", "Activate Authenticator App"):
        assert shown in wanted
    for unused in ("Social Accounts", "Add Security Key"):  # social login, passkeys: not used
        assert unused not in wanted
    ours = polib.pofile(str(allauth_catalogs()[0].po_path))
    assert {f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt else e.msgid for e in ours} == wanted


def test_a_catalog_nothing_was_applied_to_is_left_alone(tmp_path: Path) -> None:
    touched, untouched = make_catalog(tmp_path / "a"), make_catalog(tmp_path / "b")
    po = polib.pofile(str(untouched.po_path))
    po[:] = [e for e in po if e.msgid != "Save"]
    po.save(str(untouched.po_path))
    before = untouched.po_path.read_bytes()
    report = apply_translations([{"Save": "Lưu", "Cancel": "Hủy"}], catalogs=[touched, untouched])
    assert report.applied == ["Save"]
    assert untouched.po_path.read_bytes() == before
