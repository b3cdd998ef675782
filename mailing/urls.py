from django.urls import path

from . import views

app_name = "mailing"
urlpatterns = [
    # Personal unsubscribe links (SPEC §5.5): no login, one-click POST (RFC 8058).
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
