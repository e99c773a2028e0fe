"""A month of work at the demo's home agency, so that every page has something real on it.

Every dossier is made the way people make them, through the public services: submitted
(``lifecycle.submit``) or received at the desk, taken, handed over, sent for a supplement,
decided and returned (``desk.services``), given a Form 04 by the daily deadline job and signed
(``desk.deadlines``), transferred to a department (``exchange.services``) and rated
(``results.services``); the statistics rollups and the usage ledger follow by themselves, and
last month is invoiced (``billing.invoicing``). Each step is replayed at the working day and
hour it would have happened: the clock is moved there for the call (time-machine, one of the
development extras that ``dev.py up`` installs), so dates, deadlines, the hand-over trail and
the figures agree with each other.

Left at the end, for the first hour of each role: dossiers waiting at the desk, in
processing, waiting for the applicant's supplement, late with a Form 04 signed and one to
sign, overdue, transferred, waiting for the leader's approval, with a result ready,
returned, rated, and refused at reception.

Idempotent and cheap to re-run: an agency that has any dossier is left alone (one query);
the whole month is written in one transaction, so a failure leaves nothing half-made.

This is the only module that knows the demo's story; the dossier lifecycle's entry points
are the only code it calls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from billing.invoicing import billing_month_close, previous_period
from billing.models import Invoice
from desk.deadlines import apology_sign, deadline_scan_agency
from desk.services import (
    desk_receive,
    desk_refuse,
    dossier_approve,
    dossier_claim,
    dossier_forward,
    result_attach,
    result_return,
    supplement_request,
)
from dossiers import engine
from dossiers.models import Channel, Dossier, DossierProcess, DossierStatus, ReturnMethod
from exchange.services import exchange_send
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from results.services import rating_submit
from tenants.context import agency_context
from tenants.models import Agency, AgencyKind, AgencyStatus
from workdays.calendar import WorkCalendar, agency_calendar

# A small but real PDF: every uploaded document and result of the demo.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# What each procedure's form asks, answered as an applicant would.
FORMS: dict[str, dict[str, str]] = {
    "S-HT-001": {
        "child_full_name": "Lê Minh Khang",
        "child_birth_date": "",  # filled with a date before the submission
        "child_sex": "Nam",
        "birth_place": "Bệnh viện Phụ sản Hải Phòng",
    },
    "S-HT-002": {"spouse_a": "Vũ Đức Thắng", "spouse_b": "Hoàng Thị Thu"},
    "S-HT-003": {"deceased_name": "Nguyễn Văn Tư", "death_date": ""},
    "S-CT-001": {"pages": "3"},
    "S-KD-001": {
        "business_name": "Tạp hoá Minh An",
        "business_address": "Số 45 đường Lạch Tray, phường Thành Đông",
        "capital": "80000000",
        "trade": "Bán lẻ hàng tạp hoá",
    },
    "S-XD-001": {
        "plot_address": "Thửa 112, tờ bản đồ 07, phường Thành Đông",
        "floor_area": "96.5",
        "floors": "3",
    },
    "S-MT-001": {
        "facility_name": "Xưởng may Thành Công",
        "facility_address": "Ngõ 8 đường Tô Hiệu, phường Thành Đông",
    },
    "S-GD-001": {"school_name": "Trường mầm non tư thục Hoa Sen", "capacity": "120"},
    "S-DD-001": {"parcel_number": "215", "map_sheet": "12", "area": "84.2"},
    "S-LD-001": {"beneficiary_name": "Trần Thị Lựu", "category": "Người cao tuổi"},
    "S-CT-002": {
        "shop_name": "Cửa hàng Phúc Lộc",
        "shop_address": "Số 9 phố Cầu Đất, phường Thành Đông",
    },
}

# People who come to the desk without an account (the desk writes down a phone number).
WALK_INS = (
    ("Nguyễn Văn Hùng", "0903111222"),
    ("Trần Thị Ngọc", "0983222333"),
    ("Phạm Văn Long", "0912333444"),
    ("Đặng Thị Hạnh", "0936444555"),
    ("Bùi Quang Vinh", "0977555666"),
    ("Vũ Thị Lan", "0904666777"),
)

# Residents who use the portal with an account (no password: they exist to rate).
RESIDENTS = (
    ("hoangvannam@motcua.localhost", "Hoàng Văn Nam"),
    ("ngothithuy@motcua.localhost", "Ngô Thị Thủy"),
    ("dinhcongson@motcua.localhost", "Đinh Công Sơn"),
)

# Finished work of the month: (working days ago, procedure, online?, rated score or 0, late?).
HISTORY: tuple[tuple[int, str, bool, int, bool], ...] = (
    (23, "S-HT-001", True, 5, False),
    (22, "S-CT-001", False, 0, False),
    (22, "S-KD-001", True, 4, False),
    (21, "S-HT-003", False, 0, False),
    (20, "S-CT-001", True, 5, False),
    (19, "S-MT-001", True, 4, False),
    (18, "S-HT-001", False, 0, False),
    (17, "S-CT-002", True, 3, True),
    (16, "S-CT-001", False, 0, False),
    (15, "S-HT-002", False, 0, False),
    (14, "S-KD-001", True, 5, False),
    (13, "S-HT-001", True, 4, False),
    (12, "S-LD-001", False, 0, False),
    (11, "S-CT-001", True, 5, False),
    (10, "S-HT-003", False, 0, False),
    (9, "S-KD-001", False, 0, True),
    (8, "S-HT-001", True, 5, False),
    (7, "S-CT-001", False, 0, False),
    (6, "S-MT-001", True, 4, False),
    (5, "S-HT-002", False, 0, False),
    (4, "S-CT-001", True, 5, False),
    (3, "S-HT-001", False, 0, False),
    (2, "S-CT-001", True, 4, False),
)


@dataclass
class ActivityReport:
    dossiers: int = 0
    invoices: int = 0
    seconds: float = 0.0
    skipped: bool = False


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@contextlib.contextmanager
def clock_at(when: dt.datetime) -> Iterator[None]:
    """Run the block with the wall clock standing at ``when``."""
    import time_machine  # a development extra: only the local demo replays the past

    with time_machine.travel(when, tick=False):
        yield


class _Story:
    """The demo agency's month, told through the services, one step at a time."""

    def __init__(self, *, agency: Agency, people: dict[str, User], now: dt.datetime) -> None:
        self.agency = agency
        self.people = people
        self.officer = people["officer"]
        self.leader = people["leader"]
        self.citizen = people["citizen"]
        self.now = now
        self.today = timezone.localdate(now)
        self.calendar: WorkCalendar = agency_calendar()
        self.made = 0
        self._walk_in = 0
        self._resident = 0
        self.residents = [
            User.objects.filter(email=email).first()
            or User.objects.create_user(email, None, full_name=name)
            for email, name in RESIDENTS
        ]

    # -- Time ------------------------------------------------------------------------------

    def working_day(self, ago: int) -> dt.date:
        """The working day ``ago`` working days before today (0: today if it is one)."""
        day = self.today
        if ago == 0 and self.calendar.is_working_day(day):
            return day
        count = 0
        while True:
            day -= dt.timedelta(days=1)
            if self.calendar.is_working_day(day):
                count += 1
                if count >= max(ago, 1):
                    return day

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        when = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        # Never in the future: today's steps are squeezed into the minutes before now.
        return min(when, self.now - dt.timedelta(minutes=1))

    def later(self, day: dt.date, days: int) -> dt.date:
        """``days`` working days after ``day``, but never after today."""
        return min(self.calendar.add_working_days(day, days), self.today)

    # -- Applicants ------------------------------------------------------------------------

    def walk_in(self, *, phone: bool = True) -> Applicant:
        """Someone at the desk without an account. The month's history leaves the phone out:
        its SMS would all go out (and be metered) today, when the worker first starts."""
        name, number = WALK_INS[self._walk_in % len(WALK_INS)]
        self._walk_in += 1
        return Applicant(
            name=name, phone=number if phone else "", address="Phường Thành Đông, Hải Phòng"
        )

    def resident(self) -> User:
        user = self.residents[self._resident % len(self.residents)]
        self._resident += 1
        return user

    # -- Steps -----------------------------------------------------------------------------

    def procedure(self, code: str) -> AgencyProcedure:
        return AgencyProcedure.objects.get(code=code)

    def form(self, code: str, day: dt.date) -> dict[str, str]:
        data = dict(FORMS[code])
        for key in ("child_birth_date", "death_date"):
            if key in data:
                data[key] = (day - dt.timedelta(days=4)).isoformat()
        return data

    def files(self, procedure: AgencyProcedure) -> dict[int, list[SimpleUploadedFile]]:
        spec = procedure.published_version.spec  # type: ignore[union-attr]
        return {
            i: [pdf(f"thanh-phan-{i + 1}.pdf")] for i, c in enumerate(spec.components) if c.required
        }

    def submit(
        self,
        code: str,
        when: dt.datetime,
        *,
        online: bool,
        user: User | None = None,
        history: bool = False,
    ) -> Dossier:
        procedure = self.procedure(code)
        form = self.form(code, when.date())
        with clock_at(when):
            if online:
                owner = user or self.resident()
                dossier = dossier_submit(
                    agency=self.agency,
                    procedure=procedure,
                    applicant=Applicant.from_user(owner),
                    form_data=form,
                    files=self.files(procedure),
                    channel=Channel.ONLINE,
                ).dossier
            else:
                dossier = desk_receive(
                    agency=self.agency,
                    actor=self.officer,
                    procedure=procedure,
                    applicant=self.walk_in(phone=not history)
                    if user is None
                    else Applicant.from_user(user),
                    form_data=form,
                    files=self.files(procedure),
                    received_at=when,
                ).dossier
        self.made += 1
        return dossier

    def process(self, dossier: Dossier) -> DossierProcess:
        return DossierProcess.objects.get(dossier=dossier)

    def holder_for(self, role: str) -> User:
        return self.leader if role == Role.LEADER else self.officer

    def take(self, dossier: Dossier, when: dt.datetime) -> None:
        """The person whose role the current step needs takes it, if nobody holds it."""
        process = self.process(dossier)
        if process.assignee_id is None:
            with clock_at(when):
                dossier_claim(dossier=dossier, actor=self.holder_for(process.step_role))

    def forward(self, dossier: Dossier, when: dt.datetime, *, stop_before: int) -> None:
        """Hand the dossier on, step after step, until the step at ``stop_before``."""
        self.take(dossier, when)
        steps = engine.steps_of(dossier)
        while (position := self.process(dossier).step_position) is not None and (
            position < stop_before
        ):
            holder = self.holder_for(engine.step_at(steps, position).role)
            nxt = self.holder_for(engine.step_at(steps, position + 1).role)
            with clock_at(when):
                dossier_forward(dossier=dossier, actor=holder, to=nxt)
            dossier.refresh_from_db()

    def to_decision(self, dossier: Dossier, when: dt.datetime) -> None:
        """Bring the dossier to its decision step with the draft result attached: by the
        officer before handing it to the leader, or by whoever decides if nobody is before."""
        decision = engine.decision_position(engine.steps_of(dossier))
        self.forward(dossier, when, stop_before=max(decision - 1, 0))
        dossier.refresh_from_db()
        if decision > 0 and dossier.status == DossierStatus.IN_PROCESSING:
            self.attach(dossier, when)
            self.forward(dossier, when, stop_before=decision)
        else:
            self.forward(dossier, when, stop_before=decision)
            self.attach(dossier, when)

    def attach(self, dossier: Dossier, when: dt.datetime) -> None:
        with clock_at(when):
            result_attach(
                dossier=dossier,
                actor=self.holder_for(self.process(dossier).step_role),
                file=pdf("ket-qua.pdf"),
                number=f"{dossier.pk:03d}/QĐ-UBND",
            )

    def approve(self, dossier: Dossier, when: dt.datetime) -> None:
        process = self.process(dossier)
        with clock_at(when):
            dossier_approve(dossier=dossier, actor=self.holder_for(process.step_role))
        dossier.refresh_from_db()

    def hand_back(self, dossier: Dossier, when: dt.datetime) -> None:
        self.take(dossier, when)
        method = ReturnMethod.ELECTRONIC if dossier.applicant_id else ReturnMethod.DESK
        with clock_at(when):
            result_return(dossier=dossier, actor=self.officer, method=method)
        dossier.refresh_from_db()

    def rate(self, dossier: Dossier, when: dt.datetime, score: int, comment: str = "") -> None:
        owner = dossier.applicant
        with clock_at(when):
            rating_submit(dossier=dossier, user=owner, score=score, comment=comment)

    def finish(self, dossier: Dossier, day: dt.date, *, late: bool) -> dt.date:
        """Decide and return a dossier: on time (or, when ``late``, after its due date)."""
        spec_days = dossier.procedure_version.spec.processing_days
        if late:
            decided = self.later(dossier.due_date, 1)
        else:
            decided = self.later(day, max(0, spec_days - 1) if spec_days else 0)
        self.to_decision(dossier, self.at(day, 9, 30) if decided == day else self.at(decided, 9))
        self.approve(dossier, self.at(decided, 14))
        self.hand_back(dossier, self.at(decided, 15, 30))
        return decided

    # -- The month -------------------------------------------------------------------------

    def history(self) -> None:
        """Finished work of the last month, some of it rated."""
        comments = {
            5: "Cán bộ hướng dẫn tận tình, trả kết quả đúng hẹn.",
            4: "Thủ tục nhanh gọn.",
            3: "Kết quả trả chậm hơn ngày hẹn.",
        }
        for n, (ago, code, online, score, late) in enumerate(HISTORY):
            day = self.working_day(ago)
            received = self.at(day, 8 + n % 3, 5 + (n * 7) % 50)
            dossier = self.submit(code, received, online=online, history=True)
            decided = self.finish(dossier, day, late=late)
            if score and online:
                self.rate(dossier, self.at(self.later(decided, 1), 19), score, comments[score])

    def open_work(self) -> None:
        """What is on everyone's desk today."""
        citizen = self.citizen
        # Late, with Form 04: due today or on the next working day, so the daily job (run
        # first, before today's dossiers come in) drafts their apologies; the leader has
        # signed one and has the other to sign.
        late = []
        for code in ("S-XD-001", "S-GD-001"):
            received = self.due_soon_received(code)
            dossier = self.submit(code, self.at(received, 9, 20), online=False)
            self.forward(dossier, self.at(received, 10), stop_before=1)
            late.append(dossier)
        with clock_at(self.at(self.working_day(0), 6, 15)):
            deadline_scan_agency(self.agency, today=self.today)
        with clock_at(self.at(self.working_day(0), 7, 30)):
            apology_sign(
                dossier=late[0],
                actor=self.leader,
                reason="Cần kiểm tra thực địa bổ sung trước khi cấp phép.",
            )
        # The citizen's own dossiers: one to supplement, one to rate, one rated, one in progress.
        shop = self.submit(
            "S-KD-001", self.at(self.working_day(2), 9, 10), online=True, user=citizen
        )
        self.forward(shop, self.at(self.working_day(2), 10), stop_before=1)
        with clock_at(self.at(self.working_day(1), 10, 20)):
            supplement_request(
                dossier=shop,
                actor=self.officer,
                items=["Bản sao hợp đồng thuê địa điểm kinh doanh"],
                note="Hồ sơ thiếu giấy tờ chứng minh quyền sử dụng địa điểm kinh doanh.",
            )
        birth = self.submit(
            "S-HT-001", self.at(self.working_day(3), 8, 40), online=True, user=citizen
        )
        self.finish(birth, self.working_day(3), late=False)
        copy = self.submit(
            "S-CT-001", self.at(self.working_day(6), 8, 15), online=True, user=citizen
        )
        decided = self.finish(copy, self.working_day(6), late=False)
        self.rate(copy, self.at(self.later(decided, 1), 20), 5, "Rất hài lòng.")
        allowance = self.submit(
            "S-LD-001", self.at(self.working_day(4), 9, 30), online=True, user=citizen
        )
        self.forward(allowance, self.at(self.working_day(4), 11), stop_before=1)

        # Waiting at the desk: an online dossier nobody has taken, one received in person.
        self.submit("S-MT-001", self.at(self.working_day(0), 8, 5), online=True)
        self.submit("S-HT-002", self.at(self.working_day(0), 8, 30), online=False)
        # At the leader's decision, the draft result attached.
        licence = self.submit("S-CT-002", self.at(self.working_day(8), 9), online=True)
        self.to_decision(licence, self.at(self.working_day(2), 15))
        # A result ready for the applicant to collect at the desk.
        death = self.submit("S-HT-003", self.at(self.working_day(0), 7, 50), online=False)
        self.to_decision(death, self.at(self.working_day(0), 9, 45))
        self.approve(death, self.at(self.working_day(0), 10, 15))
        # Overdue, with no Form 04: its due date has passed.
        overdue = self.submit("S-KD-001", self.at(self.working_day(9), 10), online=False)
        self.forward(overdue, self.at(self.working_day(9), 10, 30), stop_before=1)
        # Transferred to the department that registers land (liên thông).
        land = self.submit("S-DD-001", self.at(self.working_day(10), 9, 40), online=False)
        steps = engine.steps_of(land)
        transfer = next(i for i, s in enumerate(steps) if s.transfer)
        self.forward(land, self.at(self.working_day(7), 14), stop_before=transfer)
        receiver = (
            Agency.objects.filter(
                kind=AgencyKind.DEPARTMENT,
                status=AgencyStatus.ACTIVE,
                province_code=self.agency.province_code,
                slug__startswith="so-nong-nghiep",
            ).first()
            or Agency.objects.filter(kind=AgencyKind.DEPARTMENT, status=AgencyStatus.ACTIVE)
            .exclude(pk=self.agency.pk)
            .first()
        )
        if receiver is not None:
            with clock_at(self.at(self.working_day(7), 15)):
                exchange_send(
                    agency=self.agency,
                    dossier=land,
                    actor=self.officer,
                    receiver=receiver,
                    note="Đề nghị Văn phòng đăng ký đất đai thẩm định, cấp giấy chứng nhận.",
                )
        # Refused at reception (Form 03): the applicant lacked the documents.
        with clock_at(self.at(self.working_day(5), 10, 40)):
            desk_refuse(
                agency=self.agency,
                actor=self.officer,
                procedure=self.procedure("S-XD-001"),
                applicant=self.walk_in(),
                reasons=["Chưa có bản vẽ thiết kế xây dựng theo quy định."],
            )

    def due_soon_received(self, code: str) -> dt.date:
        """The latest working day on which a dossier of ``code`` received at 9:20 falls due
        today or on the next working day (the daily job's window)."""
        spec = self.procedure(code).published_version.spec  # type: ignore[union-attr]
        window = {self.working_day(0), self.calendar.next_working_day(self.today)}
        day = self.today
        for _ in range(120):
            day -= dt.timedelta(days=1)
            if not self.calendar.is_working_day(day):
                continue
            received = self.at(day, 9, 20)
            if self.calendar.due_date(received, spec.processing_days, spec.cutoff_hour) in window:
                return day
        return self.working_day(spec.processing_days)


def demo_activity_seed(
    *,
    agency: Agency,
    people: dict[str, User],
    report: Callable[[str], None] = lambda _msg: None,
) -> ActivityReport:
    """Give ``agency`` its month of dossiers (once) and invoice last month.

    ``people`` names the demo's accounts by role: ``officer`` (receptionist and officer),
    ``leader`` and ``citizen``."""
    result = ActivityReport()
    started = timezone.now()
    with agency_context(agency):
        if Dossier.objects.exists():
            result.skipped = True
            return result
        with transaction.atomic():
            story = _Story(agency=agency, people=people, now=timezone.now())
            story.history()
            story.open_work()
            result.dossiers = story.made
    period = previous_period(timezone.localdate())
    if not Invoice.objects.filter(period_start=period).exists():
        closed = billing_month_close(period_start=period, actor_email="demo@motcua.localhost")
        result.invoices = closed.issued
    result.seconds = (timezone.now() - started).total_seconds()
    report(
        f"  {agency.slug}: {result.dossiers} demo dossiers over a month"
        f" ({result.seconds:.1f}s), {result.invoices} invoice(s) for {period:%m/%Y}"
    )
    return result
