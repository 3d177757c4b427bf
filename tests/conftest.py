import datetime

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from tests.factories import World, build_world

# The machine is shared: a generated example that takes longer than Hypothesis's 200 ms under load is not a
# failure (what the properties check is the answer, not its time; speed is measured in benchmarks/).
hypothesis_settings.register_profile("tillit", deadline=None)
hypothesis_settings.load_profile("tillit")


def pytest_collection_modifyitems(config, items):
    """A test on a database of its own gives the same answer in both passes: the PostgreSQL pass skips it."""
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    skip = pytest.mark.skip(reason="runs on its own SQLite database; covered by the SQLite pass")
    for item in items:
        if "own_database" in item.keywords or "once" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    # Argon2 is what production uses (see test_settings); tests hash fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # One cache per test process, emptied before each test (ids are reused after a rolled-back test).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                       "fragments": settings.CACHES["fragments"]}
    # Tests read English; the language tests switch to bokmål and Swedish explicitly.
    settings.LANGUAGE_CODE = "en"
    # The suite's logins are about the pages behind them; tests/core/test_logins.py requires second factors as
    # an organisation would (the default, "grants") and takes each login through them.
    settings.TILLIT_SECOND_FACTOR_ROLES = "none"


@pytest.fixture
def world(db) -> World:
    """Two disjoint scopes, A and B, each with a region, branch, company, workplace, members and a rep."""
    return build_world()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test's stored files (documents, mail) in a folder of its own."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


@pytest.fixture
def today():
    return datetime.date.today()


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English: a request in another language leaves it active in the thread."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


class Inbox:
    """A real SMTP server's handler (aiosmtpd): keeps what arrives; refuses the addresses in `refuse` (550)."""

    def __init__(self):
        self.envelopes = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """An SMTP server on a free port of 127.0.0.1, and Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def portal(world):
    """The world with self-service: a public service on a case type of A's region (title, where, a yes/no, a
    file), a members-only bookable service, two members of A with logins, and a citizen (no membership)."""
    from tests import factories
    from tillit.portal.models import FormField, Service
    from tillit.registry import services

    world.cat_type = factories.case_type(world.a.region, name="Found cat")
    world.cat = Service.objects.create(case_type=world.cat_type, titles={"en": "Report a found cat"},
                                       audience=Service.Audience.ANYONE)
    for i, (key, kind, required) in enumerate([("title", "short", True), ("where", "short", True),
                                               ("collar", "yes_no", False), ("photo", "file", False)]):
        FormField.objects.create(service=world.cat, key=key, kind=kind, required=required, position=i,
                                 labels={"en": key.capitalize()})
    world.talk_type = factories.case_type(world.a.branch, name="Talk")
    world.talk = Service.objects.create(case_type=world.talk_type, titles={"en": "Book a talk"},
                                        audience=Service.Audience.MEMBERS, bookable=True, opens=datetime.time(9),
                                        closes=datetime.time(11), slot_minutes=60, capacity=2)
    world.members_users = []
    for person, _m in world.a.members[1:3]:
        user = factories.user(f"member{person.pk}", email=person.email)
        user.set_unusable_password()  # as the portal makes them: they log in by link (or sign-on), not password
        user.save(update_fields=["password"])
        services.link_user(person, user, actor=None, channel="system")
        world.members_users.append((user, person))
    citizen = factories.person(first_name="Kim", last_name="Citizen", email="kim@example.se")
    world.citizen = factories.user("kim", email=citizen.email)
    world.citizen.set_unusable_password()
    world.citizen.save(update_fields=["password"])
    services.link_user(citizen, world.citizen, actor=None, channel="system")
    world.citizen_person = citizen
    return world
