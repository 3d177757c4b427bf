"""An employer's payroll login sees its own notices and returns and nothing else; staff of one region reach no
dues object of another; every link a payroll login is shown opens."""

import pytest
from django.urls import reverse

from tests import factories
from tests.test_crawl import DUES_POST_ROUTES, _body
from tillit.core.models import AuditEntry
from tillit.core.services import create_token, grant_access
from tillit.dues.models import Deviation, LedgerEntry

pytestmark = pytest.mark.django_db


def secrets_of(side) -> list[str]:
    out = [side.marker]
    for p, m in side.members:
        out += [p.email, p.national_id, p.national_id[:6] + " " + p.national_id[6:], m.member_number, p.first_name]
    return out


@pytest.fixture
def month(world):
    factories.dues_month(world)
    for side in (world.a, world.b):
        side.payroll = factories.user(f"payroll_{side.marker.lower()}")
        grant_access(side.payroll, "payroll", "employer", side.company, actor=None, channel="system")
    return world


LISTS = ["/dues/notices/", "/dues/notices/?since=3m", "/dues/returns/"]


def _objects(side):
    return [reverse("dues_notice", args=[side.notice.pk]), reverse("dues_return", args=[side.ret.pk]),
            *[reverse("dues_notice_file", args=[side.notice.pk, f]) for f in ("csv", "xlsx", "pdf")],
            *[reverse("dues_full_list", args=[side.company.pk, f]) + "?period=2027-01" for f in ("csv", "xlsx", "pdf")]]


def test_a_payroll_login_sees_its_own_notices_and_returns_and_nothing_of_another_employer(client, month):
    a, b = month.a, month.b
    client.force_login(a.payroll)
    assert client.get("/").url == reverse("dues_notices")
    own = [p for p, _m in a.members[:2]]
    for url in LISTS + _objects(a):
        response = client.get(url)
        assert response.status_code == 200, url
        text = _body(response)
        for secret in secrets_of(b):
            assert secret not in text, f"{url} shows {secret!r} of the other employer"
    notice_page = client.get(reverse("dues_notice", args=[a.notice.pk])).content.decode()
    assert all(m.member_number in notice_page for _p, m in a.members[:2]) and own
    for url in _objects(b):
        assert client.get(url).status_code == 404, url
    # the staff pages are not theirs, and the registry shows them no one
    assert client.get(reverse("dues_home")).url == reverse("dues_notices")
    for name in ("dues_deviations", "dues_giro", "dues_arrears", "dues_schedules"):
        assert client.get(reverse(name)).status_code == 404, name
    assert client.get(reverse("dues_invoice_pdf", args=[a.invoice.pk])).status_code == 404
    assert client.get(reverse("person", args=[a.members[0][0].pk])).status_code == 404


def test_every_link_a_payroll_login_is_shown_opens(client, month):
    client.force_login(month.a.payroll)
    assert len(factories.every_link_opens(client, reverse("dues_notices"))) >= 10


def test_the_api_gives_a_payroll_login_its_own_notices_only(client, month):
    _token, raw = create_token(month.a.payroll)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    listed = client.get("/api/v1/dues/notices", **auth).json()["items"]
    assert {n["id"] for n in listed} == {month.a.notice.pk}
    detail = client.get(f"/api/v1/dues/notices/{month.a.notice.pk}", **auth).json()
    assert {line["member_number"] for line in detail["lines"]} == {m.member_number for _p, m in month.a.members[:2]}
    assert client.get(f"/api/v1/dues/notices/{month.b.notice.pk}", **auth).status_code == 404
    assert {r["id"] for r in client.get("/api/v1/dues/returns", **auth).json()["items"]} == {month.a.ret.pk}
    assert client.get("/api/v1/persons", **auth).json()["items"] == []
    assert client.get(f"/api/v1/persons/{month.a.members[0][0].pk}/dues", **auth).status_code == 404
    for path in ("/api/v1/dues/runs", "/api/v1/dues/deviations", "/api/v1/dues/fee-schedules"):
        assert client.get(path, **auth).status_code == 404, path


def test_a_payroll_login_uploads_a_return_for_its_own_employer_only(client, month):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(month.a.payroll)
    m0 = month.b.members[0][1]
    body = f"member_number;period;amount\n{m0.member_number};2027-02;400\n".encode()
    response = client.post(reverse("dues_returns"), {"payroll_unit": month.b.company.pk,
                                                     "file": SimpleUploadedFile("r.csv", body)})
    assert response.status_code == 422 and "choose the payroll office" in response.content.decode()
    assert not LedgerEntry.objects.filter(period="2027-02-01").exists()


def test_staff_of_one_region_reach_no_dues_object_of_another(client, month):
    a, b = month.a, month.b
    client.force_login(a.staff)
    entries, audits = LedgerEntry.objects.count(), AuditEntry.objects.count()
    targets = {"dues_run_action": {"pk": a.run.pk, "action": "notices"},
               "dues_deviation_resolve": {"pk": b.deviation.pk}, "dues_person_entry": {"pk": b.members[0][0].pk}}
    assert set(targets) == set(DUES_POST_ROUTES)
    for name, data in DUES_POST_ROUTES.items():
        response = client.post(reverse(name, kwargs=targets[name]), data)
        assert response.status_code == 404, f"{name}: {response.status_code}"
    assert LedgerEntry.objects.count() == entries and AuditEntry.objects.count() == audits
    assert Deviation.objects.get(pk=b.deviation.pk).status == "open"
    # their own region's deviation they can resolve
    response = client.post(reverse("dues_deviation_resolve", args=[a.deviation.pk]), {"action": "accept",
                                                                                       "version": 1})
    assert response.status_code == 302 and Deviation.objects.get(pk=a.deviation.pk).status == "accepted"


def test_bank_files_and_returns_through_the_api(client, month):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tillit.dues.demo import ocr_file
    from tillit.dues.models import Invoice

    _token, raw = create_token(month.admin)
    admin = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    invoice = Invoice.objects.get(pk=month.a.invoice.pk)
    data = ocr_file([(invoice.kid, 1000)], number="0000777", date=invoice.due_on).encode()
    first = client.post("/api/v1/dues/giro-files", {"file": SimpleUploadedFile("ocr.txt", data)}, **admin).json()
    assert (first["booked"], first["already_read"]) == (1, False)
    again = client.post("/api/v1/dues/giro-files", {"file": SimpleUploadedFile("ocr.txt", data)}, **admin).json()
    assert (again["id"], again["already_read"]) == (first["id"], True)
    broken = client.post("/api/v1/dues/giro-files", {"file": SimpleUploadedFile("x.txt", b"NY000010" + b"0" * 70)},
                         **admin)
    assert broken.status_code == 422 and "line 1" in broken.json()["message"]

    _token, raw = create_token(month.a.payroll)
    payroll = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    m0 = month.a.members[0][1]
    bad = f"member_number;period;amount\n{m0.member_number};2027-02;4o0\n".encode()
    response = client.post("/api/v1/dues/returns", {"file": SimpleUploadedFile("r.csv", bad),
                                                    "payroll_unit_id": month.a.company.pk}, **payroll)
    assert response.status_code == 422 and "row 2" in str(response.json()["errors"])
    good = f"member_number;period;amount\n{m0.member_number};2027-02;400\n".encode()
    response = client.post("/api/v1/dues/returns", {"file": SimpleUploadedFile("r.csv", good),
                                                    "payroll_unit_id": month.b.company.pk}, **payroll)
    assert response.status_code == 404
    response = client.post("/api/v1/dues/returns", {"file": SimpleUploadedFile("r.csv", good),
                                                    "payroll_unit_id": month.a.company.pk}, **payroll)
    assert response.status_code == 200 and response.json()["rows"] == 1


def test_a_notice_shows_a_region_only_its_own_people_and_logs_each_person_shown(client, world):
    """Company A has a second workplace in region B whose member is deducted through A's payroll: A's case handler
    (who reaches the notice through region A) sees and downloads only A's lines, each logged; A's payroll office
    sees the whole notice."""
    from tillit.core.models import AccessLogEntry
    from tillit.dues.models import DeductionNotice
    from tillit.dues.notices import _describe
    from tillit.registry import services
    from tillit.registry.models import Employment

    factories.dues_month(world)
    far = services.create_employer("Alfa Filial Beta", "workplace", parent=world.a.company, region=world.b.region,
                                   channel="system")
    outsider, membership = world.b.members[2]
    Employment.objects.filter(person=outsider).update(workplace=far, payroll_deduction=True)
    line = {**_describe({membership.pk: membership})[membership.pk], "kind": "start", "amount": 40_000,
            "previous_amount": 0, "from": "2027-01-01", "reason": ""}
    DeductionNotice.objects.filter(pk=world.a.notice.pk).update(lines=[*world.a.notice.lines, line])
    world.a.notice.refresh_from_db()
    payroll = factories.user("payroll_alfa")
    grant_access(payroll, "payroll", "employer", world.a.company, actor=None, channel="system")
    notice = world.a.notice
    assert membership.member_number in str(notice.lines)  # the office's notice names them
    client.force_login(world.a.staff)
    urls = [reverse("dues_notice", args=[notice.pk]),
            *[reverse("dues_notice_file", args=[notice.pk, f]) for f in ("csv", "xlsx", "pdf")],
            *[reverse("dues_full_list", args=[world.a.company.pk, f]) + "?period=2027-01" for f in ("csv", "xlsx")]]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _body(response)
        assert outsider.national_id[:6] not in text and outsider.last_name not in text, url
    insider = world.a.members[0][0]
    assert AccessLogEntry.objects.filter(user=world.a.staff, person_id=insider.pk,
                                         action="dues.notice.viewed").exists()
    assert not AccessLogEntry.objects.filter(user=world.a.staff, person_id=outsider.pk).exists()
    client.force_login(payroll)
    page = client.get(reverse("dues_notice", args=[notice.pk])).content.decode()
    assert outsider.last_name in page
