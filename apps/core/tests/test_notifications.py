import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from apps.core.models import Delivery, Notification, WebhookEndpoint
from apps.core.notifications import notify
from apps.core.testing import page_client


class Receiver:
    """A real HTTP server on loopback that records the JSON bodies posted to it."""

    def __init__(self):
        self.bodies = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"errcode":0}')

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_notify_creates_in_app_notifications_and_counts_unread(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.home1, world.town1, world.home1], "test.kind", "隐患已指派", url="/ledger/")
    assert Notification.objects.filter(recipient=world.home1).count() == 1
    body = page_client(world.home1).get("/notifications/").content.decode()
    assert "隐患已指派" in body
    assert 'id="unread-count">1<' in body


def test_dedup_key_notifies_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.home1], "deadline.passed", "已逾期", dedup_key="hazard:1:overdue")
        notify([world.home1], "deadline.passed", "已逾期", dedup_key="hazard:1:overdue")
    assert Notification.objects.filter(recipient=world.home1).count() == 1


@pytest.mark.parametrize("fmt", ["generic", "wecom", "dingtalk"])
def test_webhook_receives_the_notification(world, receiver, django_capture_on_commit_callbacks, fmt):
    WebhookEndpoint.objects.create(name="hook", url=receiver.url, format=fmt)
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.home1], "hazard.assigned", "隐患已指派给您")
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    if fmt == "generic":
        assert body["kind"] == "hazard.assigned" and body["title"] == "隐患已指派给您"
    else:
        assert body["msgtype"] == "text" and "隐患已指派给您" in body["text"]["content"]
    assert Delivery.objects.filter(channel="webhook", ok=True).count() == 1


def test_webhook_limited_to_an_organisation_and_kinds(world, receiver, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="t2", url=receiver.url, organization=world.t2)
    WebhookEndpoint.objects.create(name="kinds", url=receiver.url, verbs=["other.kind"])
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.home1], "hazard.assigned", "x")
    assert receiver.bodies == []


def test_failed_webhook_is_recorded_and_does_not_raise(world, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(name="dead", url="http://127.0.0.1:9/none")
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.home1], "hazard.assigned", "x")
    assert Delivery.objects.filter(ok=False).count() == 1


def test_email_is_sent_to_recipients_with_an_address(world, mailoutbox, django_capture_on_commit_callbacks):
    world.home1.email = "home1@example.org"
    world.home1.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.home1], "hazard.assigned", "隐患已指派给您", body="请尽快整改")
    assert len(mailoutbox) == 1 and mailoutbox[0].subject == "隐患已指派给您"


def test_rolled_back_action_notifies_nobody(world, receiver):
    from django.db import transaction

    WebhookEndpoint.objects.create(name="hook", url=receiver.url)
    try:
        with transaction.atomic():
            notify([world.home1], "hazard.assigned", "x")
            raise RuntimeError
    except RuntimeError:
        pass
    assert receiver.bodies == []
    assert not Notification.objects.exists()
