"""Portal routes of the reports app (mounted under /partner/)."""
from reports.views import dashboard, files, report

app_name = "reports"

urlpatterns = [
    *dashboard.urlpatterns,
    *report.urlpatterns,
    *files.urlpatterns,
]
