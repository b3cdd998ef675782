"""Field types the API's serializers share: strict JSON types where DRF would coerce."""

from __future__ import annotations

import datetime as dt

from rest_framework import serializers

# Fields named `errors` or `source` carry `type: ignore[assignment]`: the stubs take
# them for Serializer.errors and Field.source, but DRF's metaclass moves declared
# fields off the class, so at runtime they shadow neither.


class TextField(serializers.CharField):
    """Text, and only text: DRF's CharField would also take 5 or true as "5"/"True"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer, and only that (DRF's IntegerField also takes "5" and 5.0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class UtcDateTimeField(serializers.DateTimeField):
    """A time as the API writes it: ISO 8601 in UTC with "Z", whatever TIME_ZONE says
    (DRF's default converts to the current time zone, looking it up for each value)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", dt.UTC)
        super().__init__(**kwargs)
