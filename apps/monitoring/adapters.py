"""Payload adapters: raw bytes + topic (+ MQTT user name) -> normalized records.

This module owns decoding. Storage (the reading table, device state, rollups) consumes
``Normalized`` records and does not look at payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class Normalized:
    """One decoded reading or device event, ready for storage and evaluation."""

    device_code: str
    measured_at: datetime  # aware UTC: device time, or receive time if the payload has none
    received_at: datetime  # aware UTC: when the platform received the message
    values: dict[str, float]  # channel code -> value
    seq: int | None = None
    clock_skewed: bool = False
    event: str | None = None  # "alarm" | "fault" | "restore" for device events
    event_channel: str | None = None
