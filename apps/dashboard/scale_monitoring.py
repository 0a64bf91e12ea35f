"""Devices and readings for the scale dataset (filled in once the monitoring app has landed)."""


def generate_readings(command, inst_ids, n):
    from apps.monitoring import models as monitoring

    if not hasattr(monitoring, "Reading"):
        command.log("monitoring has no Reading model yet: no readings")
        return
    command.log("monitoring readings: generator not wired yet")
