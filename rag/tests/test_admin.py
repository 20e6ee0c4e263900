"""The docs-index admin: indexed pages (read-only) and the test-retrieval form."""

import socket

import pytest

from django.core.management import call_command
from django.urls import reverse

from rag import clients
from rag.models import IndexedPage

pytestmark = pytest.mark.django_db

PAGES = reverse("admin:rag_indexedpage_changelist")
TEST_RETRIEVAL = reverse("admin:rag_indexedpage_test_retrieval")

INSTALL = """---
id: install
title: Installing the widget
---

# Installing the widget

Add the script tag to your Docusaurus site and set the data-endpoint attribute.

## Behind a proxy

Set HTTPS_PROXY before starting the server so outgoing calls use the corporate proxy.
"""

BILLING = """---
id: billing
title: Billing
---

# Billing

Invoices are sent monthly by email to the account owner.
"""


@pytest.fixture
def indexed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text(INSTALL, encoding="utf-8")
    (docs / "billing.md").write_text(BILLING, encoding="utf-8")
    call_command("ingest_docs", str(docs), "--base-url", "https://docs.example.test", verbosity=0)
    return docs


def test_indexed_pages_list_shows_path_url_chunks_hash_and_time(admin_client, indexed):
    response = admin_client.get(PAGES)

    assert response.status_code == 200
    listed = {page.path for page in response.context["cl"].result_list}
    assert listed == {"install.md", "billing.md"}
    install = IndexedPage.objects.get(path="install.md")
    html = response.content.decode()
    assert f'href="{install.url}"' in html
    assert install.content_hash[:12] in html
    assert install.chunk_count >= 2
    assert f'href="{TEST_RETRIEVAL}"' in html


def test_indexed_pages_are_read_only(admin_client, indexed):
    page = IndexedPage.objects.get(path="install.md")

    assert admin_client.get(reverse("admin:rag_indexedpage_add")).status_code == 403
    change = reverse("admin:rag_indexedpage_change", args=[page.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"title": "x"}).status_code == 403
    delete = reverse("admin:rag_indexedpage_delete", args=[page.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert IndexedPage.objects.filter(pk=page.pk, title="Installing the widget").exists()


def test_indexed_pages_search_by_path(admin_client, indexed):
    response = admin_client.get(PAGES, {"q": "billing"})

    assert [page.path for page in response.context["cl"].result_list] == ["billing.md"]


def test_test_retrieval_form_shows_hits_with_score_path_url_heading_and_snippet(
    admin_client, indexed
):
    response = admin_client.get(
        TEST_RETRIEVAL, {"question": "how do I use a corporate proxy", "k": 3}
    )

    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert 1 <= len(outcome["hits"]) <= 3
    best = outcome["hits"][0]
    assert best["path"] == "install.md"
    assert best["heading"] == "Behind a proxy"
    assert best["url"].startswith("https://docs.example.test/docs/install#")
    assert "HTTPS_PROXY" in best["snippet"]
    html = response.content.decode()
    assert f'href="{best["url"]}"' in html
    assert "Behind a proxy" in html
    assert "HTTPS_PROXY" in html


def test_test_retrieval_says_when_the_chat_would_refuse(admin_client, indexed):
    response = admin_client.get(TEST_RETRIEVAL, {"question": "zzqx flibbertigibbet", "k": 5})

    assert response.status_code == 200
    assert response.context["outcome"]["decision"].refused is True
    assert "The chat would say the docs don't cover this" in response.content.decode()


def test_test_retrieval_without_a_question_shows_an_empty_form(admin_client):
    response = admin_client.get(TEST_RETRIEVAL)

    assert response.status_code == 200
    assert response.context["outcome"] is None
    assert b'name="question"' in response.content


def test_test_retrieval_rejects_a_bad_result_count(admin_client):
    response = admin_client.get(TEST_RETRIEVAL, {"question": "proxy", "k": "500"})

    assert response.status_code == 200
    assert response.context["outcome"] is None
    assert "k" in response.context["form"].errors


def test_test_retrieval_reports_an_unreachable_index_instead_of_failing(admin_client, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.RAG_QDRANT_URL = f"http://127.0.0.1:{port}"
    settings.RAG_QDRANT_TIMEOUT = 2.0
    clients.reset_clients()

    response = admin_client.get(TEST_RETRIEVAL, {"question": "proxy", "k": 3})

    assert response.status_code == 200
    assert response.context["error"]
    assert b"The search index is unavailable" in response.content


@pytest.mark.parametrize("url", [PAGES, TEST_RETRIEVAL])
def test_non_staff_users_are_sent_to_the_login_page(client, django_user_model, url):
    django_user_model.objects.create_user(username="visitor", password="pw-123456789")
    client.login(username="visitor", password="pw-123456789")

    response = client.get(url, {"question": "proxy"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_index_permission_cannot_test_retrieval(client, django_user_model):
    django_user_model.objects.create_user(username="staff", password="pw-123456789", is_staff=True)
    client.login(username="staff", password="pw-123456789")

    assert client.get(TEST_RETRIEVAL, {"question": "proxy"}).status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("question", ["how do I use a corporate proxy", "zzqx flibbertigibbet"])
def test_test_retrieval_agrees_with_the_chat(admin_client, indexed, llm, question):
    page = "https://docs.example.test/docs/install"
    chat = admin_client.post("/chat", {"message": question, "page_url": page},
                             content_type="application/json").json()

    response = admin_client.get(TEST_RETRIEVAL, {"question": question, "page_url": page})

    outcome = response.context["outcome"]
    assert outcome["decision"].refused is chat["refused"]
    shown = [hit["url"] for hit in outcome["hits"]]
    if chat["refused"]:
        assert chat["sources"] == [] or chat["sources"][0]["url"] in shown
    else:
        assert [source["url"] for source in chat["sources"]] == shown[: len(chat["sources"])]
    assert "Searched for" in response.content.decode()


def test_test_retrieval_rewrites_a_follow_up_as_the_chat_does(admin_client, indexed):
    response = admin_client.get(TEST_RETRIEVAL, {
        "question": "and what about it?", "previous_question": "how do I use a corporate proxy"})

    outcome = response.context["outcome"]
    assert outcome["rewrite"] != "none"
    assert "proxy" in outcome["query"]
    assert outcome["hits"][0]["heading"] == "Behind a proxy"
