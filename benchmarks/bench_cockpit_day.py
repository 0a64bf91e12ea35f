"""The province leader's first cockpit request after local midnight, on the ``generate_scale_data``
province (run the generator on the bench database first), side by side with what it cost before the
last-figures entry (issue 18): the same request with that entry removed, so the request builds the
cockpit inline (the hazard months cached, as they stay across a day change).

Each round is one simulated day (time-machine): the cockpit is seen at 23:55 local, the clock passes
midnight, the first request at 00:05 is timed; days alternate between the baseline (inline build)
and the subject (served the last figures with their time, rebuild queued). Risk rows go stale at
midnight as in production (``RISK_REFRESH_QUEUE=off``: the request only queues their refresh).
"""
import datetime
import statistics
import time

from benchmarks.util import Skip


def _first_request(client, user, url, evening, day, inline):
    """One simulated day: the entry built at 23:55, the first request at 00:05 timed."""
    import time_machine
    from django.core.cache import cache
    from django.db import connection

    from apps.dashboard.cache import last_key
    from apps.dashboard.cockpit import Cockpit

    with time_machine.travel(evening + datetime.timedelta(days=day), tick=True):
        Cockpit.build_and_store(user)  # seen during the day: the entry the evening leaves in the cache
    with time_machine.travel(evening + datetime.timedelta(days=day, minutes=10), tick=True):
        client.force_login(user)
        if inline:
            cache.delete(last_key(user, None))  # as before: nothing to serve, built in the request
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            t = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t) * 1000
        assert response.status_code == 200
        served_last = b'id="cockpit-as-of"' in response.content
        _join_rebuilds()  # a queued rebuild (a thread without a broker) finishes outside the timing
    return elapsed, len(executed), served_last


def _join_rebuilds():
    import threading

    for thread in threading.enumerate():
        if thread.name == "cockpit-rebuild":
            thread.join()


def run():
    import zoneinfo

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from apps.ledger.models import Institution
    from apps.orgs.models import User

    user = User.objects.filter(username="bench_leader").first()
    if user is None or not Institution.objects.filter(name__startswith="规模").exists():
        raise Skip("run `manage.py generate_scale_data` on this database first")
    settings.RISK_REFRESH_QUEUE = "off"
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    evening = datetime.datetime.combine(timezone.localdate(), datetime.time(23, 55), tzinfo=tz)
    client = Client(HTTP_HOST="127.0.0.1")
    rounds = 5
    subject, baseline = [], []
    for k in range(rounds):
        baseline.append(_first_request(client, user, "/cockpit/", evening, 2 * k + 1, inline=True))
        subject.append(_first_request(client, user, "/cockpit/", evening, 2 * k + 2, inline=False))
    settings.RISK_REFRESH_QUEUE = "auto"
    s = statistics.median(t for t, _, _ in subject)
    b = statistics.median(t for t, _, _ in baseline)
    return [{"what": "cockpit (province leader), first request after local midnight: served the last figures "
                     "(subject) vs built in the request as before (baseline), alternate simulated days",
             "institutions": Institution.objects.count(), "rounds": rounds,
             "subject_median_ms": round(s, 1), "baseline_median_ms": round(b, 1),
             "ratio_baseline_over_subject": round(b / s, 1) if s else None,
             "subject_ms": [round(t, 1) for t, _, _ in subject], "baseline_ms": [round(t, 1) for t, _, _ in baseline],
             "subject_queries": [q for _, q, _ in subject], "baseline_queries": [q for _, q, _ in baseline],
             "subject_served_last": [x for _, _, x in subject], "baseline_served_last": [x for _, _, x in baseline]}]


def summary(rows):
    return [f"first cockpit after midnight, province ({r['institutions']:,} institutions): {r['subject_median_ms']} ms "
            f"served the last figures vs {r['baseline_median_ms']} ms built inline ({r['ratio_baseline_over_subject']}x); "
            f"queries {r['subject_queries']} vs {r['baseline_queries']}" for r in rows if "subject_median_ms" in r]
