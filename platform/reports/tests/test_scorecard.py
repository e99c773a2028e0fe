"""The scorecard: known inputs give a known score; the live inputs and the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reports.scorecard import ScoreInputs, agency_scorecard, projected_inputs, score_from
from reports.tests.test_pages import client_for
from tenants.context import agency_context

KNOWN = ScoreInputs(
    procedures=10,
    published=8,
    published_online=6,
    received=20,
    received_online=10,
    received_digitised=15,
    resolved_early_on_time=9,
    resolved_late=0,
    open_past_due=1,
    rated=4,
    rating_total=16,
    fee_due=0,
    paid_online=0,
)


def test_known_inputs_give_a_known_score() -> None:
    score = score_from(KNOWN)
    points = {g.key: g.points for g in score.groups}
    assert points == {
        "publicity": 14.4,  # 8/10 of 18
        "progress": 18.0,  # 9/(9+0+1) of 20
        "digitisation": 16.5,  # 15/20 of 22
        "online": 7.5,  # mean(6/8, 10/20) of 12
        "satisfaction": 14.4,  # 16/(4*5) of 18
        "payment": None,  # no fee due: left out
    }
    # 70.8 points out of the 90 scored, rescaled to 100.
    assert score.total == 78.7


def test_projection_extrapolates_the_month_and_keeps_past_due_as_late() -> None:
    projected = projected_inputs(KNOWN, today=dt.date(2026, 11, 15))  # 30 days: ×2
    assert projected.received == 40 and projected.resolved_early_on_time == 18
    assert projected.resolved_late == 1 and projected.open_past_due == 0
    assert projected.procedures == 10
    # progress 18/19 of 20 = 18.947; (14.4 + 18.947 + 16.5 + 7.5 + 14.4) * 100 / 90
    assert score_from(projected).total == 79.7


def test_no_data_gives_no_score() -> None:
    empty = ScoreInputs(*([0] * 13))
    assert score_from(empty).total is None


@pytest.mark.django_db
def test_live_inputs_and_hurting_dossiers(commune, other_commune, submit) -> None:
    with agency_context(other_commune):
        submit(other_commune, received_at=timezone.now() - dt.timedelta(days=60))
    with agency_context(commune):
        late = submit(commune, received_at=timezone.now() - dt.timedelta(days=60))
        fresh = submit(commune)
        card = agency_scorecard(agency=commune)
    assert card.inputs.received == 1  # this month only
    assert card.inputs.received_online == 1
    assert card.inputs.received_digitised == 1
    assert card.inputs.open_past_due == 1
    assert card.inputs.published >= 1
    # The past-due dossier hurts most; the other agency's never appear.
    assert [d.code for d in card.hurting] == [late.code, fresh.code]
    progress = next(g for g in card.now.groups if g.key == "progress")
    assert progress.rate == 0.0  # nothing resolved, one past due


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_scorecard_page_for_admin_leader_viewer_only(commune, staff, submit) -> None:
    with agency_context(commune):
        dossier = submit(commune, received_at=timezone.now() - dt.timedelta(days=60))
    for user in (staff.admin, staff.leader, staff.viewer):
        response = client_for(user).get("/quan-tri/thong-ke/diem/")
        assert response.status_code == 200
        assert "Service-index scorecard" in response.text
        assert "Digitisation" in response.text and "published procedures" in response.text
        assert dossier.code in response.text
    assert client_for(staff.officer).get("/quan-tri/thong-ke/diem/").status_code == 403
