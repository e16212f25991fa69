"""Admin of the Affilae tables: read-only lists with filters and search, and CSV export — an
"Export CSV" action for the selected rows and an "Export CSV" button that streams the whole
list as currently filtered, searched and ordered (however many rows that is)."""
import csv
from collections.abc import Callable, Iterable, Iterator

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone

from backoffice.admin_utils import ReadOnlyAdminMixin
from integrations.affilae.models import AffiliateProfile, CommissionDay, PartnershipSnapshot

# Spreadsheet programs run a cell starting with one of these as a formula; the names and ids
# in these tables come from outside (the network), so such cells are quoted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def csv_lines(columns: list[tuple[str, Callable]], rows: Iterable) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in columns])
    for row in rows:
        yield writer.writerow([_cell(get(row)) for _, get in columns])


class CsvExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only ModelAdmin with both ways of exporting CSV. Subclasses set `csv_columns`
    [(header, function of a row)] and `csv_name`."""

    change_list_template = "admin/affilae/csv_change_list.html"
    actions = ["export_csv_action"]
    csv_columns: list[tuple[str, Callable]] = []
    csv_name = "export"

    def _csv_response(self, queryset) -> StreamingHttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            csv_lines(self.csv_columns, queryset.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="affilae-{self.csv_name}-{stamp}.csv"'
        return response

    @admin.action(description="Export CSV (selected rows)")
    def export_csv_action(self, request, queryset):
        return self._csv_response(queryset.select_related(*self.list_select_related or ()))

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            self.message_user(request, "These filters cannot be exported; clear them and try again.", messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{self._url_prefix}_changelist"))
        return self._csv_response(changelist.queryset)

    @property
    def _url_prefix(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def get_urls(self):
        return [
            path("export.csv", self.admin_site.admin_view(self.export_csv_view), name=f"{self._url_prefix}_export_csv"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "csv_export_url": reverse(f"admin:{self._url_prefix}_export_csv")}
        return super().changelist_view(request, extra_context)


@admin.register(AffiliateProfile)
class AffiliateProfileAdmin(CsvExportAdmin):
    list_display = ["name", "profile_id", "connection", "url", "first_seen_at", "last_seen_at"]
    list_filter = ["connection"]
    list_select_related = ["connection"]
    search_fields = ["name", "profile_id", "url"]
    csv_name = "affiliate-profiles"
    csv_columns = [
        ("connection", lambda p: p.connection.name),
        ("profile_id", lambda p: p.profile_id),
        ("name", lambda p: p.name),
        ("url", lambda p: p.url),
        ("first_seen_at", lambda p: p.first_seen_at.isoformat()),
        ("last_seen_at", lambda p: p.last_seen_at.isoformat()),
    ]


@admin.register(PartnershipSnapshot)
class PartnershipSnapshotAdmin(CsvExportAdmin):
    list_display = ["snapshot_date", "program_name", "status", "profile", "tracking_id", "advertiser", "group_name",
                    "partnership_id", "connection"]
    list_filter = ["status", "connection", "snapshot_date", "profile"]
    list_select_related = ["connection", "profile"]
    search_fields = ["partnership_id", "program_name", "program_id", "tracking_id", "advertiser", "profile__name",
                     "profile__profile_id"]
    date_hierarchy = "snapshot_date"
    csv_name = "partnerships-history"
    csv_columns = [
        ("snapshot_date", lambda s: s.snapshot_date.isoformat()),
        ("connection", lambda s: s.connection.name),
        ("partnership_id", lambda s: s.partnership_id),
        ("affiliate_profile_id", lambda s: s.profile.profile_id),
        ("affiliate_profile", lambda s: s.profile.name),
        ("program_id", lambda s: s.program_id),
        ("program_name", lambda s: s.program_name),
        ("program_url", lambda s: s.program_url),
        ("tracking_id", lambda s: s.tracking_id),
        ("status", lambda s: s.status),
        ("advertiser", lambda s: s.advertiser),
        ("group", lambda s: s.group_name),
    ]


@admin.register(CommissionDay)
class CommissionDayAdmin(CsvExportAdmin):
    list_display = ["date", "program_name", "profile", "clicks", "impressions", "conversions", "commissions",
                    "revenue", "currency", "partnership_id", "connection"]
    list_filter = ["currency", "connection", "date", "profile"]
    list_select_related = ["connection", "profile"]
    search_fields = ["partnership_id", "program_name", "program_id", "profile__name", "profile__profile_id"]
    date_hierarchy = "date"
    csv_name = "commissions"
    csv_columns = [
        ("date", lambda c: c.date.isoformat()),
        ("connection", lambda c: c.connection.name),
        ("affiliate_profile_id", lambda c: c.profile.profile_id),
        ("affiliate_profile", lambda c: c.profile.name),
        ("partnership_id", lambda c: c.partnership_id),
        ("program_id", lambda c: c.program_id),
        ("program_name", lambda c: c.program_name),
        ("clicks", lambda c: c.clicks),
        ("impressions", lambda c: c.impressions),
        ("conversions", lambda c: c.conversions),
        ("commissions", lambda c: c.commissions),
        ("revenue", lambda c: c.revenue),
        ("currency", lambda c: c.currency),
    ]
