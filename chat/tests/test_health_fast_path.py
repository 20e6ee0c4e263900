"""``/healthz`` is answered in front of Django: it never waits for the app's work."""

import asyncio

import pytest

from chat.health import HealthzFastPath


async def _call(app, method: str, path: str):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    return sent


async def test_healthz_is_answered_even_when_the_app_is_stuck():
    async def stuck_app(scope, receive, send):
        await asyncio.sleep(3600)

    sent = await asyncio.wait_for(_call(HealthzFastPath(stuck_app), "GET", "/healthz"), timeout=1)
    assert sent[0]["status"] == 200
    assert (b"content-type", b"application/json") in sent[0]["headers"]
    assert sent[1]["body"] == b'{"status": "ok"}'


async def test_head_gets_no_body_and_other_paths_reach_the_app():
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    assert (await _call(HealthzFastPath(app), "HEAD", "/healthz"))[1]["body"] == b""
    await _call(HealthzFastPath(app), "GET", "/healthz/extra")
    await _call(HealthzFastPath(app), "POST", "/healthz")
    assert reached == ["/healthz/extra", "/healthz"]


def test_the_served_application_has_the_fast_path():
    from chatsite.asgi import application

    assert isinstance(application, HealthzFastPath)


@pytest.mark.django_db
def test_the_django_view_answers_the_same(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == HealthzFastPath.BODY
