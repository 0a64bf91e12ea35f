"""Notifications delivered by a real Celery worker over the real Redis (CI: make test-services)."""
import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from apps.core.models import Delivery, WebhookEndpoint
from apps.core.notifications import notify

from .test_notifications import Receiver

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _point_celery_at(app, url, *, eager):
    """Reconfigure the producer side and drop connections made with the previous broker."""
    app.conf.update(broker_url=url, task_always_eager=eager)
    app._pool = None
    app.amqp._producer_pool = None


def test_a_celery_worker_on_redis_delivers_a_webhook(world, settings):
    if connection.vendor != "postgresql":
        pytest.fail("service tests run on PostgreSQL: set DATABASE_URL")
    receiver = Receiver()
    db = connection.settings_dict
    env = dict(os.environ, CELERY_BROKER_URL=REDIS, SECRET_KEY="test",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               DJANGO_SETTINGS_MODULE="firesafe.test_settings")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "firesafe", "worker", "--pool=solo", "-l", "warning",
         "--without-gossip", "--without-mingle", "-Q", "celery"],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        from firesafe.celery import app

        _point_celery_at(app, REDIS, eager=False)
        WebhookEndpoint.objects.create(name="hook", url=receiver.url)
        notify([world.home1], "hazard.assigned", "经由 Celery 投递")
        deadline = time.time() + 60
        while time.time() < deadline and not receiver.bodies:
            time.sleep(0.3)
        assert receiver.bodies and receiver.bodies[0]["title"] == "经由 Celery 投递"
        assert Delivery.objects.filter(ok=True).exists()
    finally:
        _point_celery_at(app, settings.CELERY_BROKER_URL or None, eager=True)
        worker.terminate()
        worker.wait(10)
        receiver.close()
