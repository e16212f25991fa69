"""Portal URLs of the campaigns app (under /partner/)."""
from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("contacts", views.contacts_view, name="contacts"),
]
