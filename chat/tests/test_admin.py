"""The admin the docs team uses: sessions, transcripts, gaps; staff only, read-only words."""

import re
from datetime import timedelta

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from chat.tests.transcript_factory import make_exchange, make_session, source

pytestmark = pytest.mark.django_db

SESSIONS = reverse("admin:chat_chatsession_changelist")
MESSAGES = reverse("admin:chat_chatmessage_changelist")


def session_page(session):
    return reverse("admin:chat_chatsession_change", args=[session.pk])


def listed_sessions(response) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


def test_sessions_list_shows_start_page_message_count_and_flags(admin_client):
    happy = make_session(page="https://docs.example.test/docs/intro")
    make_exchange(happy, "How do I install it?")
    make_exchange(happy, "And upgrade?", rating="up")
    unhappy = make_session()
    make_exchange(unhappy, "Does it do payroll?", refused=True, rating="down")

    response = admin_client.get(SESSIONS)

    assert response.status_code == 200
    rows = {row.pk: row for row in response.context["cl"].result_list}
    assert rows[happy.pk].message_count == 4
    assert (rows[happy.pk].has_thumbs_down, rows[happy.pk].has_refusal) == (False, False)
    assert rows[unhappy.pk].message_count == 2
    assert (rows[unhappy.pk].has_thumbs_down, rows[unhappy.pk].has_refusal) == (True, True)
    assert b'href="https://docs.example.test/docs/intro"' in response.content


def test_sessions_list_costs_the_same_queries_for_two_or_twenty_sessions(admin_client):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(SESSIONS).status_code == 200
        return len(captured)

    for _ in range(2):
        make_exchange(make_session(), "q", rating="down")
    few = queries_for_list()
    for _ in range(18):
        make_exchange(make_session(), "q", refused=True)
    assert queries_for_list() == few


def test_search_finds_sessions_by_message_text_once_each(admin_client):
    wanted = make_session()
    make_exchange(wanted, "How do I configure the webhook secret?", "Set WEBHOOK_SECRET [1].")
    make_exchange(wanted, "Where does the webhook log go?")
    make_exchange(make_session(), "How do I install it?")

    response = admin_client.get(SESSIONS, {"q": "webhook"})

    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]
    assert response.context["cl"].result_list[0].message_count == 4


def test_search_finds_a_session_by_token_hash_prefix(admin_client):
    wanted, other = make_session(), make_session()

    response = admin_client.get(SESSIONS, {"q": wanted.token_hash[:12]})

    assert listed_sessions(response) == {wanted.pk}
    assert other.pk not in listed_sessions(response)


def test_filters_select_sessions_with_thumbs_down_refusals_channel_and_date(admin_client):
    down = make_session()
    make_exchange(down, "q", rating="down")
    refused = make_session(channel=ChatSession.Channel.CHATKIT)
    make_exchange(refused, "q", refused=True)
    old = make_session(days_ago=40)
    make_exchange(old, "q")

    assert listed_sessions(admin_client.get(SESSIONS, {"thumbs_down": "yes"})) == {down.pk}
    assert listed_sessions(admin_client.get(SESSIONS, {"thumbs_down": "no"})) == {
        refused.pk,
        old.pk,
    }
    assert listed_sessions(admin_client.get(SESSIONS, {"refusal": "yes"})) == {refused.pk}
    assert listed_sessions(admin_client.get(SESSIONS, {"channel__exact": "chatkit"})) == {
        refused.pk
    }
    # The same parameter the "Past 7 days" link of the date filter uses.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week_ago = str(midnight - timedelta(days=7))
    recent = admin_client.get(SESSIONS, {"created_at__gte": week_ago})
    assert listed_sessions(recent) == {down.pk, refused.pk}


def test_session_page_shows_the_transcript_oldest_first_with_sources_and_details(admin_client):
    session = make_session()
    now = timezone.now()
    make_exchange(
        session,
        "First question about install",
        "Run the installer [1].",
        sources=[source(1, "Install", "https://docs.example.test/docs/install#steps", "Steps")],
        at=now - timedelta(minutes=5),
        rating="down",
        comment="missing the Windows steps",
        latency_ms=1234,
        ttft_ms=321,
    )
    make_exchange(session, "Second question about upgrades", refused=True, at=now)

    response = admin_client.get(session_page(session))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("First question about install") < html.index("Second question about upgrades")
    assert 'href="https://docs.example.test/docs/install#steps"' in html
    assert "Install — Steps" in html
    assert "fake-model" in html
    assert "1234 ms (first token 321 ms)" in html
    assert "120/40" in html
    assert "missing the Windows steps" in html
    assert "Complete" in html
    assert "Complete · not in the docs" in html


def test_source_urls_that_are_not_http_are_shown_as_text_not_links(admin_client):
    session = make_session()
    make_exchange(session, "q", sources=[source(1, "Evil", "javascript:alert(1)")])

    html = admin_client.get(session_page(session)).content.decode()

    assert "Evil" in html
    assert "javascript:alert(1)" not in html


def test_transcript_is_read_only(admin_client):
    session = make_session()
    question, _ = make_exchange(session, "What I really asked")

    html = admin_client.get(session_page(session)).content.decode()
    assert "What I really asked" in html
    assert "<textarea" not in html and "<select" not in html
    inputs = re.findall(r"<input [^>]*>", html)
    assert not [tag for tag in inputs if 'name="messages-' in tag and 'type="hidden"' not in tag]

    posted = admin_client.post(session_page(session), {"title": "changed"})
    assert posted.status_code == 403
    question.refresh_from_db()
    assert question.content == "What I really asked"
    assert admin_client.get(reverse("admin:chat_chatsession_add")).status_code == 403
    assert admin_client.get(reverse("admin:chat_chatmessage_add")).status_code == 403
    message_page = reverse("admin:chat_chatmessage_change", args=[question.pk])
    assert admin_client.post(message_page, {"content": "edited"}).status_code == 403
    question.refresh_from_db()
    assert question.content == "What I really asked"


def test_deleting_a_question_deletes_its_answer_and_nothing_else(admin_client):
    session = make_session()
    question, answer = make_exchange(session, "My password is hunter2, why can't I log in?")
    kept, kept_answer = make_exchange(session, "How do I reset a password?")

    response = admin_client.post(
        reverse("admin:chat_chatmessage_delete", args=[question.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    remaining = set(ChatMessage.objects.filter(session=session).values_list("pk", flat=True))
    assert remaining == {kept.pk, kept_answer.pk}


def test_deleting_a_session_deletes_its_messages(admin_client):
    doomed, kept = make_session(), make_session()
    make_exchange(doomed, "q1")
    make_exchange(doomed, "q2")
    make_exchange(kept, "q3")

    response = admin_client.post(
        reverse("admin:chat_chatsession_delete", args=[doomed.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not ChatSession.objects.filter(pk=doomed.pk).exists()
    assert ChatMessage.objects.filter(session_id=doomed.pk).count() == 0
    assert ChatMessage.objects.filter(session=kept).count() == 2


def test_gaps_list_refused_or_rated_down_questions_newest_first(admin_client):
    session = make_session()
    now = timezone.now()
    old_refused, _ = make_exchange(
        session, "Payroll export?", refused=True, at=now - timedelta(hours=3)
    )
    make_exchange(session, "How do I install?", rating="up", at=now - timedelta(hours=2))
    rated_down, _ = make_exchange(
        session, "Proxy settings?", rating="down", comment="wrong", at=now - timedelta(hours=1)
    )

    response = admin_client.get(MESSAGES, {"gap": "any"})

    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [rated_down.pk, old_refused.pk]
    html = response.content.decode()
    assert "not in the docs" in html
    assert "👎 down: wrong" in html
    only_refused = admin_client.get(MESSAGES, {"gap": "refused"})
    assert [row.pk for row in only_refused.context["cl"].result_list] == [old_refused.pk]


def test_sessions_list_links_to_the_gaps_view(admin_client):
    response = admin_client.get(SESSIONS)

    assert f'href="{MESSAGES}?gap=any"'.encode() in response.content


def test_gaps_list_costs_the_same_queries_for_two_or_twenty_gaps(admin_client):
    def queries_for_gaps() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(MESSAGES, {"gap": "any"}).status_code == 200
        return len(captured)

    for _ in range(2):
        make_exchange(make_session(), "q", rating="down")
    few = queries_for_gaps()
    for _ in range(18):
        make_exchange(make_session(), "q", refused=True)
    assert queries_for_gaps() == few


def test_messages_list_searches_message_text(admin_client):
    session = make_session()
    wanted, _ = make_exchange(session, "Where is the webhook secret?", "Somewhere.")
    make_exchange(session, "Install?", "Run it.")

    response = admin_client.get(MESSAGES, {"q": "webhook"})

    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.parametrize("url", [SESSIONS, MESSAGES])
def test_non_staff_users_are_sent_to_the_login_page(client, django_user_model, url):
    django_user_model.objects.create_user(username="visitor", password="pw-123456789")
    client.login(username="visitor", password="pw-123456789")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(SESSIONS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_message_page_shows_the_answer_with_its_session_and_sources(admin_client):
    session = make_session()
    _, answer = make_exchange(
        session, "q", "See the install page [1].", sources=[source(1, "Install", "/docs/install")]
    )

    response = admin_client.get(reverse("admin:chat_chatmessage_change", args=[answer.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{session_page(session)}"' in html
    assert 'href="/docs/install"' in html
    assert "See the install page [1]." in html
