"""The admin dashboard page (staff only; wrapped in ``admin.site.admin_view`` in the URLconf)."""

import datetime as dt

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import charts, selectors
from .models import RollupState
from .rollup import insights_rollup

WINDOWS = (30, 90)
STALE_AFTER = dt.timedelta(minutes=5)


def _refresh_if_stale() -> None:
    state = RollupState.objects.filter(pk=1).values_list("last_run_at", flat=True).first()
    if state is None or timezone.now() - state > STALE_AFTER:
        insights_rollup()


def dashboard(request):
    try:
        days = int(request.GET.get("days", WINDOWS[0]))
    except ValueError:
        days = WINDOWS[0]
    if days not in WINDOWS:
        days = WINDOWS[0]
    _refresh_if_stale()
    series = selectors.days_window(days=days)
    labels = [d.day.strftime("%m-%d") for d in series]
    channels = sorted({c for d in series for c in d.by_channel})
    context = {
        **admin.site.each_context(request),
        "title": _("Insights"),
        "days": days,
        "windows": WINDOWS,
        "series": series,
        "channels": channels,
        "rows": [(d, [d.by_channel.get(c, 0) for c in channels]) for d in series],
        "questions_chart": charts.stacked_bars(
            _("Questions per day by channel"), labels,
            [charts.Series(c, [d.by_channel.get(c, 0) for d in series]) for c in channels]),
        "shares_chart": charts.lines(
            _("Share refused and thumbs down"), labels,
            [charts.Series(_("refused"), [d.refused_share for d in series]),
             charts.Series(_("thumbs down"), [d.down_share for d in series])], unit="%"),
        "latency_chart": charts.lines(
            _("First text latency (ms)"), labels,
            [charts.Series("p50", [d.ttft_p50_ms for d in series]),
             charts.Series("p95", [d.ttft_p95_ms for d in series])]),
        "cited": selectors.cited_pages(days=days),
        "never_cited": selectors.never_cited_pages(days=days),
        "topics": selectors.topic_rows(),
        "rollup": RollupState.objects.filter(pk=1).first(),
    }
    return TemplateResponse(request, "admin/insights/dashboard.html", context)
