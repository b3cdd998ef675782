"""The API's JSON shapes, one module per resource. The output serializers build the
response bodies and drf-spectacular reads the same classes for the schema, so the
two cannot drift apart. Contacts are validated by `contacts.validation.contact_clean`,
the one set of rules for every writer; the contact write serializers only document
that shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework import serializers


def as_list(serializer_class: type[serializers.Serializer], instances: Sequence[Any]) -> list:
    """`serializer_class(instances, many=True).data`, with its type: the stubs do not
    know that `many=True` makes a list serializer."""
    return serializers.ListSerializer(instances, child=serializer_class()).data
