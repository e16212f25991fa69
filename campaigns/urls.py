"""Portal URLs of the campaigns app (under /partner/)."""
from django.urls import path

from campaigns.views import contacts, portal, postbacks

app_name = "campaigns"

urlpatterns = [
    path("contacts", contacts.contacts_view, name="contacts"),
    # Campaigns, promos, sub-affiliates (views/portal.py)
    path("campaigns", portal.campaign_list_view, name="campaigns"),
    path("campaigns/new", portal.campaign_create_view, name="campaign_create"),
    path("campaigns/<int:campaign_id>", portal.campaign_detail_view, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/archive", portal.campaign_archive_view, name="campaign_archive"),
    path("campaigns/<int:campaign_id>/unarchive", portal.campaign_unarchive_view, name="campaign_unarchive"),
    path("campaigns/<int:campaign_id>/promos/new", portal.promo_create_view, name="promo_create"),
    path("promos/<int:promo_id>", portal.promo_detail_view, name="promo_detail"),
    path("partner_connections", portal.partner_connection_list_view, name="partner_connections"),
    # Postbacks and their log (views/postbacks.py)
    path("postbacks", postbacks.postback_list_view, name="postbacks"),
    path("postbacks/new", postbacks.postback_create_view, name="postback_create"),
    path("postbacks/log", postbacks.postback_log_view, name="postbacks_log"),
    path("postbacks/<int:postback_id>", postbacks.postback_edit_view, name="postback_edit"),
    path("postbacks/<int:postback_id>/delete", postbacks.postback_delete_view, name="postback_delete"),
    path("postbacks/<int:postback_id>/test", postbacks.postback_test_view, name="postback_test"),
]
