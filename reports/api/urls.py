"""Partner Report API routes, mounted at /api/customer/v1/partner/ (api-facts §1)."""
from django.urls import path

from reports.api import schema, views

app_name = "report_api"

urlpatterns = [
    path("report", views.report_view, name="report"),
    path("report/attributes", views.attributes_view, name="attributes"),
    path("traffic_report", views.traffic_report_view, name="traffic_report"),
    path("requested_reports/<int:report_id>", views.requested_report_view, name="requested_report"),
    path("requested_reports/<int:report_id>/download.zip", views.requested_report_download_view,
         {"fmt": "zip"}, name="requested_report_zip"),
    path("requested_reports/<int:report_id>/download.xlsx", views.requested_report_download_view,
         {"fmt": "xlsx"}, name="requested_report_xlsx"),
    path("schema", schema.schema_view, name="schema"),
    path("docs", schema.docs_view, name="docs"),
]
