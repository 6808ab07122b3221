"""A reporter who leaves an e-mail address hears what happens to their report, in the language they reported in, through
a real SMTP server (aiosmtpd on loopback); after the retention period the address is deleted and the deletion audited.
Everything listens on loopback only."""
import email
import email.header
import json
import os
import sqlite3

from selenium.webdriver.common.by import By

from conftest import Server, free_port
from test_hotline import add_user
from test_platform_core import enrol, fill, submit
from test_takedown import Sink, assess_newest_case, jobs, wait_until


def subject(msg):
    return str(email.header.make_header(email.header.decode_header(msg["Subject"])))


def test_reporter_hears_each_status_change_in_french_and_the_address_is_deleted_after_retention(browser):
    smtp_port = free_port()
    sink = Sink(smtp_port)
    # Retention 0: the address goes as soon as the case is closed and the retention job runs.
    settings = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "hotline@vigil.test",
                "--contact-retention-days", "0"]
    server = Server(extra_args=settings)
    server.extra_args = settings
    try:
        base = server.base
        db = os.path.join(server.dir, "data", "vigil.sqlite")

        # A member of the public reports in French and leaves an address for updates.
        browser.get(f"{base}/report?lang=fr")
        browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=url]").click()
        fill(browser, url="http://updates.test/gallery/page.html", contact="parent@mail.test")
        submit(browser, "form.report-form button[type=submit]")
        reference = browser.find_element(By.ID, "reference").text
        assert reference.startswith("R-")

        # The analyst claims the case (the public status becomes "being assessed") and assesses it illegal (no change).
        secret = enrol(browser, add_user(server, "ana", "analyst"), "ana password long")
        case_url = assess_newest_case(browser, base, secret)

        jobs(server, "run", "reporter-update")
        wait_until(lambda: len(sink.messages) == 1, "the first update")
        rcpt, content = sink.messages[0]
        assert rcpt == ["parent@mail.test"]
        msg = email.message_from_bytes(content)
        body = msg.get_payload(decode=True).decode("utf-8")
        assert reference in subject(msg) and "signalement" in subject(msg)
        assert "En cours d'examen" in body
        assert f"/status?reference={reference}" in body
        # Nothing about the case beyond the public status: not the reported address.
        assert "updates.test" not in body and "updates.test" not in content.decode("utf-8", "replace")

        # The analyst asks for a notice: "action taken"; then closes the case: "closed".
        submit(browser, "button[value=request-notice]")
        jobs(server, "run", "reporter-update")
        wait_until(lambda: len(sink.messages) == 2, "the second update")
        assert "Mesures prises" in email.message_from_bytes(sink.messages[1][1]).get_payload(decode=True).decode()
        browser.get(case_url)
        submit(browser, "button[value=close]")
        jobs(server, "run", "reporter-update")
        wait_until(lambda: len(sink.messages) == 3, "the third update")
        assert "Clos" in email.message_from_bytes(sink.messages[2][1]).get_payload(decode=True).decode()
        # Running the job again writes to no one twice.
        jobs(server, "run", "reporter-update")
        assert len(sink.messages) == 3

        # After the retention period the address is deleted, and the deletion is in the audit trail.
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT contact_sealed FROM reports").fetchone()[0] is not None
        out = jobs(server, "run", "contact-retention")
        assert "contact-retention: 1 done" in out, out
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT contact_sealed FROM reports").fetchone()[0] is None
            actions = [r[0] for r in c.execute("SELECT action FROM audit_events ORDER BY seq")]
            details = [json.loads(r[0]) for r in c.execute(
                "SELECT details FROM audit_events WHERE action = 'report.contact-deleted'")]
        assert actions.count("report.update-sent") == 3
        assert details and details[0]["reference"] == reference
        assert all("parent@mail.test" not in a for a in actions)
        with sqlite3.connect(db) as c:
            assert not c.execute("SELECT count(*) FROM audit_events WHERE details LIKE '%parent@mail.test%'").fetchone()[0]
    finally:
        sink.stop()
        server.stop()
