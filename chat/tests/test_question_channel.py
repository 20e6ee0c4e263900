"""Each question records the channel it was asked through (widget, API, ChatKit, MCP), and
migration 0002 gives questions stored before it their session's channel."""

import pytest

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chat import services
from chat.models import ChatMessage, ChatSession


@pytest.mark.django_db
def test_a_question_from_the_widget_is_recorded_as_widget(api, indexed_docs):
    api.post("/chat", {"message": "How do I install quokka?"}, format="json",
             HTTP_X_CHAT_CLIENT="widget")
    question = ChatMessage.objects.get(role="user")
    assert question.channel == question.session.channel == ChatSession.Channel.WIDGET


@pytest.mark.django_db
def test_a_question_from_any_other_client_is_recorded_as_api(api, indexed_docs):
    api.post("/chat", {"message": "How do I install quokka?"}, format="json")
    question = ChatMessage.objects.get(role="user")
    assert question.channel == question.session.channel == ChatSession.Channel.API


@pytest.mark.django_db
def test_a_widget_session_continued_through_the_api_records_each_questions_channel(api,
                                                                               indexed_docs):
    first = api.post("/chat", {"message": "How do I install quokka?"}, format="json",
                     HTTP_X_CHAT_CLIENT="widget").json()
    api.post("/chat", {"message": "How do I restore a snapshot?",
                       "session_id": first["session_id"]}, format="json")
    channels = list(ChatMessage.objects.filter(role="user").order_by("id")
                    .values_list("channel", flat=True))
    assert channels == ["widget", "api"]


@pytest.mark.django_db
def test_a_question_without_a_channel_takes_its_sessions():
    session, _ = services.session_create(channel=ChatSession.Channel.CHATKIT)
    question, _ = services.message_create_user(session=session, content="hi")
    assert question.channel == ChatSession.Channel.CHATKIT


@pytest.mark.django_db(transaction=True)
def test_migration_0002_fills_earlier_questions_from_their_session():
    executor = MigrationExecutor(connection)
    executor.migrate([("chat", "0001_initial")])
    old = executor.loader.project_state([("chat", "0001_initial")]).apps
    Session, Message = old.get_model("chat", "ChatSession"), old.get_model("chat", "ChatMessage")
    chatkit = Session.objects.create(token_hash="a" * 64, channel="chatkit")
    widget = Session.objects.create(token_hash="b" * 64, channel="widget")
    Message.objects.create(session=chatkit, role="user", content="q1")
    Message.objects.create(session=chatkit, role="assistant", content="a1")
    Message.objects.create(session=widget, role="user", content="q2")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = dict(ChatMessage.objects.values_list("content", "channel"))
    assert rows == {"q1": "chatkit", "a1": "", "q2": "widget"}


@pytest.mark.django_db
def test_the_admin_filters_questions_by_channel(admin_client):
    session, _ = services.session_create(channel=ChatSession.Channel.WIDGET)
    services.message_create_user(session=session, content="from the widget")
    services.message_create_user(session=session, content="from an agent",
                                 channel=ChatSession.Channel.MCP)
    page = admin_client.get("/admin/chat/chatmessage/", {"channel__exact": "mcp"})
    assert page.status_code == 200
    assert [m.content for m in page.context["cl"].result_list] == ["from an agent"]
