"""``agency_merge``: its dry run, its refusals, and a real process killed (-9) mid-merge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from dossiers.models import Dossier, DossierDocument, DossierEvent
from reorg.models import Merge, MergeStatus
from tenants.context import agency_context
from tenants.models import Agency, AgencyStatus

ROOT = Path(__file__).resolve().parents[3]


def run_merge(
    *extra: str, failpoint: str = "", into: tuple[str, ...] = ("--into", "xa-hoa-binh")
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_NAME=settings.DATABASES["default"]["NAME"],
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    env.pop("MOTCUA_FAILPOINTS", None)
    if failpoint:
        env["MOTCUA_FAILPOINTS"] = f"{failpoint}:kill"
    cmd = [
        sys.executable,
        "manage.py",
        "agency_merge",
        "xa-an-binh",
        "xa-binh-minh",
        *into,
        "--effective",
        timezone.localdate().isoformat(),
        *extra,
    ]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "point",
    [
        "reorg.after_page",  # inside the first table's copy, a page written, step not recorded
        "reorg.before_record.copy.xa-binh-minh.dossiers_dossierevent",
        "reorg.before_record.files.xa-an-binh",
        "reorg.before_record.close.xa-an-binh",
    ],
)
def test_a_merge_killed_at_a_step_is_finished_by_running_it_again(world: Any, point: str) -> None:
    killed = run_merge(failpoint=point)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    merge = Merge.objects.get()
    assert merge.status == MergeStatus.RUNNING
    done = run_merge()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming" in done.stdout
    assert "verified: ok" in done.stdout
    merge.refresh_from_db()
    assert merge.status == MergeStatus.FINISHED
    assert merge.verification["ok"] is True
    with agency_context(world.c):
        assert Dossier.objects.count() == 9  # nothing twice, nothing lost
        assert DossierDocument.objects.count() == 18
        moved_events = sum(
            len(Dossier.objects.get(code=d.code).events.all())
            for s in ("xa-an-binh", "xa-binh-minh")
            for d in vars(world.dossiers[s]).values()
        )
    with agency_context(world.a):
        a_events = DossierEvent.objects.count()
    with agency_context(world.b):
        b_events = DossierEvent.objects.count()
    assert moved_events == a_events + b_events
    world.a.refresh_from_db()
    assert world.a.status == AgencyStatus.MERGED
    again = run_merge()  # a finished merge: re-running changes nothing
    assert again.returncode == 0, again.stderr


@pytest.mark.django_db(transaction=True)
def test_a_merge_into_a_new_agency_killed_after_building_it_is_finished(world: Any) -> None:
    into = ("--new-slug", "xa-an-hoa", "--new-name", "Xã An Hòa", "--new-code", "AH")
    killed = run_merge(failpoint="reorg.before_record.target", into=into)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    new = Agency.objects.get(slug="xa-an-hoa")
    done = run_merge(into=into)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming" in done.stdout and "verified: ok" in done.stdout
    new.refresh_from_db()
    assert new.status == AgencyStatus.ACTIVE
    assert Merge.objects.get().target == new
    with agency_context(new):
        assert Dossier.objects.count() == 6


@pytest.mark.django_db
def test_the_dry_run_prints_the_plan_and_changes_nothing(world: Any, capsys: Any) -> None:
    call_command(
        "agency_merge",
        "xa-an-binh",
        "--into",
        "xa-hoa-binh",
        "--effective",
        timezone.localdate().isoformat(),
        "--dry-run",
    )
    out = capsys.readouterr().out
    assert "merge into xa-hoa-binh" in out
    assert "dossiers_dossier: 3 rows" in out
    assert "clash: procedure S-KD-001 (winner: xa-hoa-binh)" in out
    assert not Merge.objects.exists()
    world.a.refresh_from_db()
    assert world.a.status == AgencyStatus.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["xa-an-binh", "--into", "xa-hoa-binh", "--effective", "3/12"], "YYYY-MM-DD"),
        (["xa-khong-co", "--into", "xa-hoa-binh", "--effective", "2026-07-01"], "xa-khong-co"),
        (["--into", "xa-hoa-binh", "--effective", "2026-07-01"], "Name the agencies"),
        (
            ["xa-an-binh", "--into", "xa-hoa-binh", "--effective", "2026-07-01", "--choose", "X"],
            "CODE=SLUG",
        ),
        (["xa-hoa-binh", "--into", "xa-hoa-binh", "--effective", "2026-07-01"], "itself"),
    ],
)
def test_bad_arguments_get_a_clear_error_and_nothing_is_done(
    world: Any, args: list[str], message: str
) -> None:
    with translation.override("en"), pytest.raises(CommandError) as exc:
        call_command("agency_merge", *args)
    assert message in str(exc.value)
    assert not Merge.objects.exists()
