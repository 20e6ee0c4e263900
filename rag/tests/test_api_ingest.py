import gzip
import json

import pytest

from django.test import Client

from rag.models import IndexedPage
from rag.tests.site_factory import site_page, versioned_site

pytestmark = pytest.mark.django_db

TOKEN = "ci-token-0123456789abcdef"


@pytest.fixture
def ingest_on(settings):
    settings.RAG_INGEST_TOKEN = TOKEN


def push(body, *, token=TOKEN, **headers):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    extra.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Client().post("/api/ingest", data=data, content_type="application/json", **extra)


def test_without_a_token_setting_the_endpoint_does_not_exist():
    en, _ = versioned_site()
    response = push(en)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN + "x", "Basic " + TOKEN])
def test_a_missing_or_wrong_token_is_401(ingest_on, token):
    en, _ = versioned_site()
    response = push(en, token=token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert IndexedPage.objects.count() == 0


def test_a_valid_push_indexes_and_an_unchanged_repush_embeds_nothing(ingest_on, settings, llm):
    settings.RAG_EMBEDDING_MODEL = "fake-embedding"
    en, fr = versioned_site()
    first = push(gzip.compress(json.dumps(en).encode()), content_encoding="gzip")
    assert first.status_code == 200, first.content
    assert first.json()["added"] == 3 and first.json()["embedding_calls"] >= 1
    assert push(fr).json()["added"] == 1
    llm.reset()
    again = push(en).json()
    assert (again["added"], again["updated"], again["deleted"], again["unchanged"]) == (0, 0, 0, 3)
    assert again["embedding_calls"] == 0 and llm.calls.get("/v1/embeddings", 0) == 0
    assert IndexedPage.objects.count() == 4


def test_a_truncated_manifest_is_400_and_changes_nothing(ingest_on):
    en, _ = versioned_site()
    assert push(en).status_code == 200
    changed = json.loads(json.dumps(en))
    changed["pages"].append(site_page("/docs/next/new", "New", "# New\n\nNew page.\n"))
    body = json.dumps(changed).encode()
    for cut in (body[: len(body) // 2], gzip.compress(body)[:300]):
        response = push(cut)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_manifest"
        assert response.json()["error"]["field"] == "manifest"
    assert IndexedPage.objects.count() == 3


def test_one_bad_page_rejects_the_whole_manifest(ingest_on):
    en, _ = versioned_site()
    en["pages"][2]["url"] = "https://elsewhere.example/x"
    response = push(en)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "pages[2].url"
    assert IndexedPage.objects.count() == 0


def test_a_manifest_over_the_limit_is_413(ingest_on, settings):
    settings.RAG_INGEST_MAX_BYTES = 500
    en, _ = versioned_site()
    response = push(en)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "manifest_too_large"
    assert IndexedPage.objects.count() == 0


def test_a_gzip_bomb_is_400(ingest_on, settings):
    settings.RAG_INGEST_MAX_BYTES = 2000
    en, _ = versioned_site()
    en["pages"][0]["text"] += " " * 50_000
    response = push(gzip.compress(json.dumps(en).encode()), content_encoding="gzip")
    assert response.status_code == 400 and "decompressed" in response.json()["error"]["message"]


def test_other_methods_and_encodings_are_refused(ingest_on):
    response = Client().get("/api/ingest", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405
    response = push(b"{}", content_encoding="br")
    assert response.status_code == 400 and response.json()["error"]["field"] == "Content-Encoding"


def test_dry_run_reports_without_writing(ingest_on):
    en, _ = versioned_site()
    response = Client().post("/api/ingest?dry_run=1", data=json.dumps(en), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.json()["dry_run"] is True and response.json()["added"] == 3
    assert IndexedPage.objects.count() == 0


async def _through_body_limit(path: str, size: int) -> int:
    from chatsite.body_limit import BodySizeLimit

    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": [(b"content-length", str(size).encode())]}
    await BodySizeLimit(app)(scope, receive, send)
    return sent[0]["status"]


async def test_the_server_wide_body_limit_lets_manifests_through_up_to_their_own_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.RAG_INGEST_MAX_BYTES = 5000
    assert await _through_body_limit("/api/ingest", 4000) == 200
    assert await _through_body_limit("/api/ingest", 6000) == 413
    assert await _through_body_limit("/chat", 4000) == 413
