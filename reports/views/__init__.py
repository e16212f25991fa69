"""Portal pages of the read side: the dashboard, the report page, exports, feeds, favorites,
requested reports and the Report API docs. Each module lists its own routes."""
