"""Two people at the same moment: exactly one check-out or one new version wins; the other is told."""

import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from tests import factories
from tillit.core.errors import ConflictError
from tillit.core.services import grant_access
from tillit.documents import services
from tillit.documents.models import Document

pytestmark = pytest.mark.django_db(transaction=True)


def _race(actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            action()
            outcomes[i] = "ok"
        except ConflictError:
            outcomes[i] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


def _two_handlers(world):
    other = factories.user()
    grant_access(other, "case_handler", "org", world.a.region, actor=None, channel="system")
    return world.a.staff, other


def test_two_simultaneous_check_outs_one_wins(world):
    doc = factories.document(world.a)
    first, second = _two_handlers(world)
    outcomes = _race([lambda u=u: services.check_out(Document.objects.get(pk=doc.pk), actor=u)
                      for u in (first, second)])
    assert outcomes == ["conflict", "ok"]
    doc.refresh_from_db()
    assert doc.checked_out_by in (first, second)


def test_two_simultaneous_uploads_from_the_same_version_one_wins(world):
    doc = factories.document(world.a)
    first, second = _two_handlers(world)
    outcomes = _race([lambda u=u: services.add_version(Document.objects.get(pk=doc.pk), file=ContentFile(
        f"by {u.username}".encode()), filename="n.txt", actor=u, base_version=1) for u in (first, second)])
    assert outcomes == ["conflict", "ok"]
    assert doc.versions.count() == 2
