from django.urls import path

from . import views

app_name = "mailing"
urlpatterns = [
    # Personal unsubscribe links (docs/design.md#unsubscribe): no login, one-click POST (RFC 8058).
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Its "subscribe again" button (a POST with CSRF; a GET shows the page above).
    path("u/<str:token>/resubscribe", views.resubscribe, name="resubscribe"),
    # Composing a mailing to a segment, under the segment's own pages (docs/design.md#pages).
    path("contacts/segments/<int:segment_id>/send", views.compose, name="compose"),
    # The mailings pages.
    path("mailings/", views.mailing_list, name="list"),
    path("mailings/<int:mailing_id>/", views.mailing_detail, name="detail"),
    path(
        "mailings/<int:mailing_id>/pause",
        views.mailing_control,
        {"action": "pause"},
        name="pause",
    ),
    path(
        "mailings/<int:mailing_id>/resume",
        views.mailing_control,
        {"action": "resume"},
        name="resume",
    ),
    path(
        "mailings/<int:mailing_id>/cancel",
        views.mailing_control,
        {"action": "cancel"},
        name="cancel",
    ),
]
