"""The simulator's scenarios and the retention command."""
import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import HourlyRollup, Reading
from apps.monitoring.simulator import HOT, LEAKAGE, NORMAL, SILENT, is_silent, scenario_for, values_at

from .conftest import series


def test_simulated_scenarios_creep_up_heat_up_and_go_silent():
    rng = random.Random(1)
    assert [scenario_for(i) for i in range(4)] == [LEAKAGE, HOT, SILENT, NORMAL]
    assert values_at(LEAKAGE, 0, rng)["residual_ma"] < 300 < values_at(LEAKAGE, 200, rng)["residual_ma"]
    assert values_at(HOT, 0, rng)["t2"] < 70 < values_at(HOT, 200, rng)["t2"]
    assert all(values_at(NORMAL, t, rng)["residual_ma"] < 300 for t in range(0, 1440, 7))
    assert not is_silent(SILENT, 5) and is_silent(SILENT, 50)


@pytest.mark.django_db
def test_retention_deletes_old_raw_readings_and_keeps_the_rollups(device):
    now = timezone.now()
    # Both old readings in one UTC hour, whatever the time of day the test runs at.
    old = now.replace(minute=10, second=0, microsecond=0) - timedelta(days=200)
    ingest_batch(series(device, old, [100, 110]), source="mqtt")
    ingest_batch(series(device, now - timedelta(days=1), [100]), source="mqtt")
    out = StringIO()
    call_command("prune_readings", "--days", "180", stdout=out)
    assert "deleted 2" in out.getvalue()
    assert Reading.objects.count() == 1
    assert HourlyRollup.objects.filter(channel="residual_ma").count() == 2
