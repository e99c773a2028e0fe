"""``agency_split``: its dry run, its refusals, and a real process killed (-9) mid-split."""

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

from dossiers.models import Dossier, DossierDocument, DossierEvent, DossierStatus
from reorg.models import MergeStatus, Split
from tenants.context import agency_context
from tenants.models import Agency, AgencyStatus

ROOT = Path(__file__).resolve().parents[3]


def run_split(*extra: str, failpoint: str = "") -> subprocess.CompletedProcess[str]:
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
        "agency_split",
        "xa-an-binh",
        "--procedure",
        "S-KD-001",
        "--effective",
        timezone.localdate().isoformat(),
        *extra,
    ]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("point", "target"),
    [
        ("reorg.after_page", "--into=xa-hoa-binh"),  # a page of the first table written
        ("reorg.before_record.copy.dossiers_dossierevent", "--into=xa-hoa-binh"),
        ("reorg.before_record.files", "--into=xa-hoa-binh"),
        ("reorg.before_record.leave", "--into=xa-hoa-binh"),
        ("reorg.before_record.target", "--new-slug=xa-an-binh-moi"),  # the new one provisioned
        ("reorg.before_record.thaw", "--new-slug=xa-an-binh-moi"),
    ],
)
def test_a_split_killed_at_a_step_is_finished_by_running_it_again(
    world: Any, point: str, target: str
) -> None:
    args = [target, "--new-name=Xã An Bình Mới"] if "new" in target else [target]
    with agency_context(world.a):
        events_before = DossierEvent.objects.count()
    killed = run_split(*args, failpoint=point)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    split = Split.objects.get()
    assert split.status == MergeStatus.RUNNING
    done = run_split(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming" in done.stdout
    assert "verified: ok" in done.stdout
    split.refresh_from_db()
    assert split.status == MergeStatus.FINISHED
    assert split.verification["ok"] is True
    receiving = Agency.objects.get(pk=split.target_id)
    with agency_context(receiving):
        # nothing twice, nothing lost
        assert Dossier.objects.count() == (3 if "new" in target else 6)
        assert DossierDocument.objects.count() == (6 if "new" in target else 12)
        moved_events = sum(
            Dossier.objects.get(code=d.code).events.count()
            for d in vars(world.dossiers["xa-an-binh"]).values()
        )
    with agency_context(world.a):
        assert moved_events == events_before
        assert DossierEvent.objects.count() == events_before + 3  # one "moved" each, once
        assert set(Dossier.objects.values_list("status", flat=True)) == {DossierStatus.MOVED}
    world.a.refresh_from_db()
    assert world.a.status == AgencyStatus.ACTIVE
    again = run_split(*args)  # a finished split: re-running changes nothing
    assert again.returncode == 0, again.stderr
    assert "already finished" in again.stdout


@pytest.mark.django_db
def test_the_dry_run_prints_the_plan_and_changes_nothing(world: Any, capsys: Any) -> None:
    call_command(
        "agency_split",
        "xa-an-binh",
        "--procedure",
        "S-KD-001",
        "--into",
        "xa-hoa-binh",
        "--staff",
        str(world.teams["xa-an-binh"].officer.email),
        "--effective",
        timezone.localdate().isoformat(),
        "--dry-run",
    )
    out = capsys.readouterr().out
    assert "split xa-an-binh into xa-hoa-binh" in out
    assert "dossiers_dossier: 3 rows" in out
    assert "clash: procedure S-KD-001 (winner: xa-hoa-binh)" in out
    assert "staff moving: " in out
    assert not Split.objects.exists()
    world.a.refresh_from_db()
    assert world.a.status == AgencyStatus.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["xa-an-binh", "--procedure", "S-KD-001", "--effective", "2026-07-01"], "--into"),
        (["xa-an-binh", "--into", "xa-hoa-binh", "--effective", "2026-07-01"], "--procedure"),
        (
            ["xa-an-binh", "--procedure", "S-KD-001", "--into", "xa-hoa-binh", "--effective", "x"],
            "YYYY-MM-DD",
        ),
        (
            [
                *("xa-khong-co", "--procedure", "S-KD-001", "--into", "xa-hoa-binh"),
                "--effective=2026-07-01",
            ],
            "xa-khong-co",
        ),
        (
            [
                *("xa-an-binh", "--procedure", "KHONG-CO", "--into", "xa-hoa-binh"),
                "--effective=2026-07-01",
            ],
            "KHONG-CO",
        ),
    ],
)
def test_bad_arguments_get_a_clear_error_and_nothing_is_done(
    world: Any, args: list[str], message: str
) -> None:
    with translation.override("en"), pytest.raises(CommandError) as exc:
        call_command("agency_split", *args)
    assert message in str(exc.value)
    assert not Split.objects.exists()
