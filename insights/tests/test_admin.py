"""The dashboard and gap topics in the admin: staff only, numbers that match, actions that work."""

import re

import pytest

from django.contrib.auth.models import User
from django.urls import reverse

from chat.models import ChatSession
from chat.tests.transcript_factory import make_exchange, make_session, source
from insights.models import GapTopic

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("insights-dashboard")
TOPICS = reverse("admin:insights_gaptopic_changelist")


@pytest.fixture
def history():
    widget, chatkit = make_session(), make_session(channel=ChatSession.Channel.CHATKIT)
    make_exchange(widget, "How do I install it?", sources=[source(1, "Install", "https://docs.test/docs/install")])
    make_exchange(widget, "How do I record a Cypress video?", refused=True, rating="down")
    make_exchange(chatkit, "How do I upgrade?", sources=[source(1, "Upgrade", "https://docs.test/docs/upgrade#v2")])


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_users_are_sent_to_the_login_page(client):
    client.force_login(User.objects.create_user("reader", password="x" * 12))

    assert client.get(DASHBOARD).status_code == 302
    assert client.get(TOPICS).status_code == 302


def test_dashboard_shows_charts_and_the_same_numbers_in_tables(admin_client, history):
    response = admin_client.get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg class="chart"') == 3
    today = response.context["series"][-1]
    assert (today.questions, today.refused, today.rated_down) == (3, 1, 1)
    assert today.by_channel == {"widget": 2, "chatkit": 1}
    # The chart's bar tooltips carry the same numbers as the table rows.
    label = today.day.strftime("%m-%d")
    assert f"<title>{label} widget: 2</title>" in html
    assert re.search(rf'<th scope="row">{today.day:%Y-%m-%d}</th><td class="num">1</td>'
                     rf'<td class="num">2</td><td class="num">3</td>', html)
    assert [p["url"] for p in response.context["cited"]] == ["https://docs.test/docs/install",
                                                               "https://docs.test/docs/upgrade"]
    assert "cypress" in response.context["topics"][0].topic.label


def test_dashboard_never_shows_session_tokens_or_hashes(admin_client, history):
    html = admin_client.get(DASHBOARD).content.decode()

    for session in ChatSession.objects.all():
        assert session.token_hash not in html
        assert session.token_hash[:12] not in html


def test_dashboard_accepts_only_its_periods(admin_client, history):
    assert admin_client.get(DASHBOARD, {"days": "90"}).context["days"] == 90
    assert admin_client.get(DASHBOARD, {"days": "7000"}).context["days"] == 30
    assert admin_client.get(DASHBOARD, {"days": "x"}).context["days"] == 30


def test_staff_can_mark_a_topic_fixed_and_export_it(admin_client, history):
    admin_client.get(DASHBOARD)  # runs the rollup
    topic = GapTopic.objects.get()

    admin_client.post(TOPICS, {"action": "mark_fixed", "_selected_action": [topic.pk]})
    topic.refresh_from_db()
    assert topic.status == GapTopic.Status.FIXED and topic.fixed_at is not None

    response = admin_client.post(TOPICS, {"action": "export_markdown", "_selected_action": [topic.pk]})
    assert response["Content-Disposition"] == 'attachment; filename="docs-gaps.md"'
    assert "## Docs gap: " in response.content.decode()
    assert "How do I record a Cypress video?" in response.content.decode()


def test_admin_index_links_the_dashboard_for_staff(admin_client):
    assert DASHBOARD in admin_client.get(reverse("admin:index")).content.decode()
