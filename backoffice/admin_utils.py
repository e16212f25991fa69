"""Admin building blocks shared by every app."""


class ReadOnlyAdminMixin:
    """For a ModelAdmin or inline that only shows rows: nobody adds, edits or deletes them
    here (they are written by services, the tracking link or the ingestion API). Actions that
    need "change" must check the real permission themselves."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
