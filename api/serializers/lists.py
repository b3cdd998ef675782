"""Tags and groups (static lists) in the API, and a group's members."""

from __future__ import annotations

from rest_framework import serializers

from .fields import TextField, UtcDateTimeField, WholeNumberField


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = UtcDateTimeField()


class TagWriteSerializer(serializers.Serializer):
    name = TextField(max_length=100)


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = UtcDateTimeField()


class GroupWriteSerializer(serializers.Serializer):
    name = TextField(max_length=200)
    description = TextField(max_length=5000, required=False, allow_blank=True)


class MembersSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=WholeNumberField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=1000,
    )


class MembersResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many memberships were added or removed.")
