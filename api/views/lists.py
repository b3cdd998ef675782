"""Tags and groups (static lists), and a group's members."""

from __future__ import annotations

from django.db.models.functions import Lower
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import Contact, Group, Tag
from contacts.services import group_add_members, group_remove_members
from contacts.upsert import names_to_ids

from ..pagination import KEYSET_PARAMETERS, PAGE_PARAMETERS, paginated_response
from ..serializers import as_list
from ..serializers.contacts import SUMMARY_COLUMNS, ContactSummarySerializer
from ..serializers.lists import (
    GroupSerializer,
    GroupWriteSerializer,
    MembersResultSerializer,
    MembersSerializer,
    TagSerializer,
    TagWriteSerializer,
)
from .base import ApiView, contact_summaries, valid_body


class NamedListView(ApiView):
    """A list of named things (tags, groups): listed by name, created by name in any case.

    The columns are the read serializer's fields, so the schema and the body agree.
    """

    model: type[Tag] | type[Group]
    read_serializer: type[serializers.Serializer]
    write_serializer: type[serializers.Serializer]

    @property
    def columns(self) -> list[str]:
        return list(self.read_serializer().fields)

    def get(self, request: Request) -> Response:
        rows = self.model.objects.order_by(Lower("name"), "pk").values(*self.columns)
        return paginated_response(request, rows, lambda page: as_list(self.read_serializer, page))

    def post(self, request: Request) -> Response:
        """Get or create by name (any case), in the statements of `names_to_ids`; the
        other fields of the body are set only on a new row."""
        data = valid_body(self.write_serializer, request)
        named = self.model.objects.alias(lname=Lower("name")).filter(lname=data["name"].lower())
        existed = named.exists()
        (pk,) = names_to_ids(self.model, [data["name"]]).values()
        extra = {key: value for key, value in data.items() if key != "name" and value}
        if extra and not existed:
            self.model.objects.filter(pk=pk).update(**extra)
        row = self.model.objects.values(*self.columns).get(pk=pk)
        return Response(
            self.read_serializer(row).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


def named_list_schema(
    *,
    noun: str,
    plural: str,
    title: str,
    read: type[serializers.Serializer],
    write: type[serializers.Serializer],
):
    """The documentation of a NamedListView's list and create, worded for its things."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"{plural}_list",
            summary=f"List {title}",
            description="By name; a plain JSON array paged with `page` and `per_page`.",
            parameters=PAGE_PARAMETERS,
            responses={200: read(many=True)},
            tags=["tags and groups"],
        ),
        post=extend_schema(
            operation_id=f"{plural}_create",
            summary=f"Create a {noun}",
            description=f"201 with the new {noun}; 200 with the existing one when the name "
            "is taken (in any case).",
            request=write,
            responses={200: read, 201: read},
            tags=["tags and groups"],
        ),
    )


@named_list_schema(
    noun="tag", plural="tags", title="tags", read=TagSerializer, write=TagWriteSerializer
)
class TagListView(NamedListView):
    model = Tag
    read_serializer = TagSerializer
    write_serializer = TagWriteSerializer


@named_list_schema(
    noun="group",
    plural="groups",
    title="groups (static lists)",
    read=GroupSerializer,
    write=GroupWriteSerializer,
)
class GroupListView(NamedListView):
    model = Group
    read_serializer = GroupSerializer
    write_serializer = GroupWriteSerializer


def _get_group(group_id: int) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"There is no group with id {group_id}.")
    return group


class GroupMembersView(ApiView):
    @extend_schema(
        operation_id="groups_members_list",
        summary="A group's members",
        description="Newest contacts first; a plain JSON array paged with `page` and `per_page`.",
        parameters=KEYSET_PARAMETERS,
        responses={200: ContactSummarySerializer(many=True)},
        tags=["tags and groups"],
    )
    def get(self, request: Request, group_id: int) -> Response:
        group = _get_group(group_id)
        rows = (
            Contact.objects.filter(groupmembership__group=group)
            .order_by("-pk")
            .values(*SUMMARY_COLUMNS)
        )
        return paginated_response(request, rows, contact_summaries, keyset=True)

    @extend_schema(
        operation_id="groups_members_add",
        summary="Add contacts to a group",
        description="Up to 1,000 contact ids; ids that do not exist are skipped. "
        "`changed` counts the new memberships.",
        request=MembersSerializer,
        responses={200: MembersResultSerializer},
        tags=["tags and groups"],
    )
    def post(self, request: Request, group_id: int) -> Response:
        group = _get_group(group_id)
        data = valid_body(MembersSerializer, request)
        changed = group_add_members(group=group, contact_ids=data["contact_ids"])
        return Response(MembersResultSerializer({"changed": changed}).data)


class GroupMemberView(ApiView):
    @extend_schema(
        operation_id="groups_members_remove",
        summary="Take a contact out of a group",
        description="404 when the contact is not in the group.",
        responses={204: None},
        tags=["tags and groups"],
    )
    def delete(self, request: Request, group_id: int, contact_id: int) -> Response:
        group = _get_group(group_id)
        if not group_remove_members(group=group, contact_ids=[contact_id]):
            raise NotFound(f"Contact {contact_id} is not in group {group_id}.")
        return Response(status=status.HTTP_204_NO_CONTENT)
