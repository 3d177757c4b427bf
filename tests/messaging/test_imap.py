"""Fetching mail from a real IMAP server: Dovecot, started for the test on 127.0.0.1."""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import factories
from tests.messaging.test_mail import _mail
from tillit.cases.models import Case

pytestmark = pytest.mark.django_db

CONFIG = """base_dir = {d}/run
state_dir = {d}/run
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
first_valid_uid = 100
mail_location = maildir:{d}/mail/%u
log_path = {d}/dovecot.log
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap_server(settings):
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(dovecot) or os.geteuid() != 0:
        if os.environ.get("TILLIT_REQUIRE_IMAP") == "1":
            pytest.fail("Dovecot (apt install dovecot-imapd) and root are needed for the IMAP test")
        pytest.skip("no Dovecot here (apt install dovecot-imapd), or not root")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Dovecot's own users must reach the files: a world-readable folder of its own under /tmp.
    tmp_path = Path(tempfile.mkdtemp(prefix="tillit-imap-"))
    tmp_path.chmod(0o755)
    (tmp_path / "run").mkdir()
    (tmp_path / "mail").mkdir()
    uid = pwd.getpwnam("dovecot")
    os.chown(tmp_path / "mail", uid.pw_uid, uid.pw_gid)
    (tmp_path / "users").write_text("tillit:{PLAIN}secret-pass\n")
    (tmp_path / "dovecot.conf").write_text(CONFIG.format(d=tmp_path, port=port))
    process = subprocess.Popen([dovecot, "-F", "-c", str(tmp_path / "dovecot.conf")])
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    settings.TILLIT_IMAP_HOST, settings.TILLIT_IMAP_PORT, settings.TILLIT_IMAP_SSL = "127.0.0.1", port, False
    settings.TILLIT_IMAP_USER, settings.TILLIT_IMAP_PASSWORD = "tillit", "secret-pass"
    yield port
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_fetch_email_files_every_unseen_message_once(imap_server, world):
    factories.case_type(world.a.branch, name="Intake", is_intake=True)
    case = factories.case(world.a)
    box = imaplib.IMAP4("127.0.0.1", imap_server)
    box.login("tillit", "secret-pass")
    box.append("INBOX", None, None, _mail(f"Re: [{case.number}] svar", body="Svaret mitt"))
    box.append("INBOX", None, None, _mail("Nytt spørsmål"))
    call_command("fetch_email", stdout=open(os.devnull, "w"))
    assert case.events.filter(kind="message_in", body__contains="Svaret mitt").exists()
    assert Case.objects.filter(title="Nytt spørsmål").count() == 1
    call_command("fetch_email", stdout=open(os.devnull, "w"))  # nothing new the second time
    assert Case.objects.filter(title="Nytt spørsmål").count() == 1
    box.select("INBOX")
    assert box.search(None, "UNSEEN")[1] == [b""]
    box.logout()
