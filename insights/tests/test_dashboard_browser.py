"""The dashboard in Chromium: it renders, and what the charts show is what the tables say."""

import pytest

from chat.models import ChatSession
from chat.tests.browser.harness import PageWatch, browser, require_browser, screenshot
from chat.tests.transcript_factory import make_exchange, make_session, source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_renders_and_its_chart_bars_match_the_table(live_server, admin_user, client):
    require_browser()
    widget, chatkit = make_session(), make_session(channel=ChatSession.Channel.CHATKIT)
    for n in range(3):
        make_exchange(widget, f"How do I install version {n}?",
                      sources=[source(1, "Install", "https://docs.test/docs/install")])
    make_exchange(chatkit, "How do I record a Cypress video?", refused=True, rating="down")
    client.force_login(admin_user)
    cookie = client.cookies["sessionid"]

    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 1600})
        context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(f"{live_server.url}/admin/insights/dashboard/")
        page.wait_for_selector("svg.chart")
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")
        screenshot(page, "insights-dashboard")

        bars = page.eval_on_selector_all(
            "svg.chart rect title", "els => els.map(e => e.textContent)")
        table = page.eval_on_selector_all(
            "#table-questions tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))")
        header = page.eval_on_selector_all("#table-questions thead th", "ths => ths.map(t => t.textContent.trim())")
        gaps = page.eval_on_selector_all("#table-gaps tbody tr td:first-child", "tds => tds.map(t => t.textContent)")
        context.close()

    channels = header[1:-1]
    from_table = {}
    for row in table:
        for channel, value in zip(channels, row[1:-1]):
            if value != "0":
                from_table[f"{row[0][5:]} {channel}"] = value
    from_chart = dict(title.rsplit(": ", 1) for title in bars)
    assert from_chart == from_table
    assert sorted(from_table.values()) == ["1", "3"]
    assert any("cypress" in label for label in gaps)
    watch.assert_clean()
