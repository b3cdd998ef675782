from django.urls import path

from .views import bulk, contacts, fields, groups, imports

app_name = "contacts"
urlpatterns = [
    path("", contacts.contact_list, name="list"),
    path("new", contacts.contact_new, name="new"),
    path("export", contacts.contact_export, name="export"),
    path("<int:contact_id>/", contacts.contact_detail, name="detail"),
    path("<int:contact_id>/edit", contacts.contact_edit, name="edit"),
    path("<int:contact_id>/delete", contacts.contact_delete, name="delete"),
    path("import/", imports.import_new, name="import-new"),
    path("import/<int:job_id>/", imports.import_job, name="import"),
    path("import/<int:job_id>/cancel", imports.import_cancel_view, name="import-cancel"),
    path("import/<int:job_id>/rejected.csv", imports.import_rejections, name="import-rejections"),
    path("bulk", bulk.bulk_action, name="bulk"),
    path("bulk/<int:job_id>/", bulk.bulk_job, name="bulk-job"),
    path("fields/", fields.field_list, name="fields"),
    path("groups/", groups.group_list, name="groups"),
    path("groups/<int:group_id>/edit", groups.group_edit, name="group-edit"),
    path("fields/<int:field_id>/edit", fields.field_edit, name="field-edit"),
    path("fields/<int:field_id>/delete", fields.field_delete, name="field-delete"),
]
