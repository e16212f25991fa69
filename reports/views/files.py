"""Reports as files: exports (CSV, XLSX, JSON, XML), token feeds and requested reports."""

urlpatterns = []
