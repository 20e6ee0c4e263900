"""URLs of the chat API: exactly ``/chat``, ``/chat/history``, ``/chat/history/<session_id>``
and ``/chat/feedback``, each also with a trailing slash (``APPEND_SLASH`` is off, so both
spellings are routed; only the one without the slash appears in the OpenAPI schema)."""

from django.urls import path

from .views import ChatViewSet, FeedbackViewSet, HistoryViewSet, StartersViewSet

app_name = "chat"

ROUTES = [
    ("chat", ChatViewSet, {"get": "status", "post": "create"}, "chat"),
    ("chat/history", HistoryViewSet, {"post": "append"}, "history"),
    ("chat/history/<str:session_id>", HistoryViewSet, {"get": "retrieve"}, "history-detail"),
    ("chat/feedback", FeedbackViewSet, {"post": "create"}, "feedback"),
    ("chat/starters", StartersViewSet, {"get": "starters"}, "starters"),
]

urlpatterns = []
for route, viewset, actions, name in ROUTES:
    urlpatterns += [
        path(route, viewset.as_view(actions), name=name),
        path(f"{route}/", viewset.as_view(actions, schema=None), name=f"{name}-slash"),
    ]
