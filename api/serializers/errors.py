"""The error body every 4xx answer has: `{"errors": [{path, message}, ...]}`."""

from __future__ import annotations

from rest_framework import serializers


def encodable(text: str) -> str:
    """Messages may quote the input; a lone surrogate in it must not break the reply."""
    return str(text).encode("utf-8", "replace").decode("utf-8")


class EncodableTextField(serializers.CharField):
    def to_representation(self, value) -> str:
        return encodable(value)


class ErrorSerializer(serializers.Serializer):
    path = EncodableTextField(
        help_text='Where in the request, e.g. "rules[2].value"; "" for the whole request.'
    )
    message = EncodableTextField()


class ErrorsSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]  # a field (see fields.py)
