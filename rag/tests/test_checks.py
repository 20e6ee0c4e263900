"""``manage.py check`` and ``/readyz`` fail loudly when the index cannot serve every worker."""

import errno
import fcntl
import json
import shutil

import pytest

from django.core.management import call_command
from django.core.management.base import SystemCheckError

from rag.index import index_status
from rag.ingestion import ingest_docs

pytestmark = pytest.mark.django_db

BASE = "https://docs.example.com"


def _make_legacy(index_dir):
    generation = next((index_dir / "edge" / "docs").glob("gen-*"))
    (generation / "readers.lock").unlink()
    (generation / "shard" / "wal").mkdir()
    return generation


def test_check_passes_with_a_shareable_index(small_docs, isolated_index):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    call_command("check", "--fail-level", "WARNING")


def test_a_generation_only_one_process_can_open_warns_and_fails_the_deploy_check(small_docs, isolated_index, capsys):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    _make_legacy(isolated_index)

    call_command("check")
    assert "rag.W001" in capsys.readouterr().err
    with pytest.raises(SystemCheckError, match="rag.E002"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
    status = index_status()
    assert status["ok"] is False and "only one process can open it" in status["error"]


def test_a_filesystem_without_flock_is_an_error(small_docs, isolated_index, monkeypatch):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    real_flock = fcntl.flock

    def no_flock(fd, operation):
        if operation & fcntl.LOCK_SH:
            raise OSError(errno.ENOLCK, "No locks available")
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", no_flock)
    with pytest.raises(SystemCheckError, match="rag.E001"):
        call_command("check")
    assert "does not support flock" in index_status()["error"]


def test_readyz_fails_when_the_index_cannot_serve_all_workers(client, small_docs, isolated_index):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    assert client.get("/readyz").status_code == 200
    _make_legacy(isolated_index)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["search_index"]


def test_answers_without_retrieval_are_counted_and_logged(client, isolated_index, caplog):
    shutil.rmtree(isolated_index, ignore_errors=True)  # no index at all
    before = index_status()["degraded_answers"]
    response = client.post("/chat", json.dumps({"message": "How do I install it?"}),
                           content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert index_status()["degraded_answers"] == before + 1
    assert any("answer degraded: no retrieval" in r.getMessage() for r in caplog.records)
    assert client.get("/readyz").json()["checks"]["search_index"]["ok"] is False
