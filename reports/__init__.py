"""READ SIDE: stats rollups, the report engine, Report API, exports, dashboard."""
