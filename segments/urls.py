from django.urls import path

from . import views

app_name = "segments"
# Mounted under /contacts/ (docs/design.md#pages: /contacts/segments, /contacts/segments/create, …).
urlpatterns = [
    path("segments", views.segment_list, name="list"),
    path("segments/create", views.segment_create, name="create"),
    path("segments/preview", views.segment_preview, name="preview"),
    path("segments/<int:segment_id>/", views.segment_edit, name="edit"),
    path("segments/<int:segment_id>/run", views.segment_run, name="run"),
    path("segments/<int:segment_id>/duplicate", views.segment_duplicate, name="duplicate"),
    path("segments/<int:segment_id>/delete", views.segment_delete, name="delete"),
    path("segments/<int:segment_id>/export", views.segment_export, name="export"),
    # A contacts page that needs to know which segments use the group (see the view).
    path("groups/<int:group_id>/delete", views.group_delete, name="group-delete"),
]
