"""POST /api/ingest: CI pushes the Docusaurus plugin's manifest after `npm run build`.

Off (404) unless ``RAG_INGEST_TOKEN`` (env ``INGEST_TOKEN``) is set; the request must carry it
as ``Authorization: Bearer <token>``. The body is one locale build's
``build/docs-chat/manifest.json``, optionally gzip-compressed (``Content-Encoding: gzip``),
at most ``RAG_INGEST_MAX_BYTES``. The whole manifest is checked before the index is touched,
so a truncated or malformed upload (400) changes nothing; otherwise it goes through
``ingest_site`` like ``manage.py ingest_site``. Errors use the API's JSON error shape.
"""

import hmac
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .conf import rag_settings
from .exceptions import EmbeddingError, IndexLocked, IngestError, RetrievalUnavailable
from .site_ingestion import ingest_site
from .site_manifest import ManifestError, decode_manifest

logger = logging.getLogger(__name__)


def _error(status: int, code: str, message: str, field: str | None = None, **headers) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _authorized(request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(given) and hmac.compare_digest(
        given.strip().encode(), token.encode())


@csrf_exempt
def ingest_push(request):
    token = rag_settings.INGEST_TOKEN
    if not token:
        return _error(404, "not_found", "Not found.")
    if not _authorized(request, token):
        return _error(401, "invalid_token", "Send the INGEST_TOKEN of the chat server as"
                      " 'Authorization: Bearer <token>'.", WWW_Authenticate='Bearer realm="ingest"')
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST with the manifest as the body.", Allow="POST")
    limit = int(rag_settings.INGEST_MAX_BYTES)
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return _error(413, "manifest_too_large", f"The manifest is larger than {limit} bytes; gzip it"
                      " or raise INGEST_MAX_BYTES on the chat server.")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, "manifest_too_large", f"The manifest is larger than {limit} bytes; gzip it"
                      " or raise INGEST_MAX_BYTES on the chat server.")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        return _error(400, "unsupported_encoding", "Send the manifest as JSON, or gzip with"
                      " 'Content-Encoding: gzip'.", "Content-Encoding")
    if encoding == "gzip" and body[:2] != b"\x1f\x8b":
        return _error(400, "invalid_manifest", "Content-Encoding says gzip but the body is not gzip.", "manifest")
    try:
        manifest = decode_manifest(body, max_bytes=limit * 10)
        report = ingest_site(manifests=[manifest], dry_run=request.GET.get("dry_run") in ("1", "true"))
    except ManifestError as exc:
        return _error(400, "invalid_manifest", exc.message, exc.field)
    except IndexLocked as exc:
        return _error(409, "ingest_in_progress", str(exc))
    except EmbeddingError as exc:
        logger.warning("ingest push: embedding failed: %s", exc)
        return _error(502, "embedding_failed", "The embedding service failed; nothing was changed. Retry later.")
    except RetrievalUnavailable as exc:
        logger.warning("ingest push: index unavailable: %s", exc)
        return _error(503, "index_unavailable", "The search index is unavailable; nothing was changed. Retry later.")
    except IngestError as exc:
        return _error(400, "invalid_manifest", str(exc), "manifest")
    logger.info("ingest push %s: added=%d updated=%d deleted=%d unchanged=%d", manifest.locale,
                report.added, report.updated, report.deleted, report.unchanged)
    return JsonResponse({
        "locale": manifest.locale, "dry_run": report.dry_run, "added": report.added,
        "updated": report.updated, "deleted": report.deleted, "unchanged": report.unchanged,
        "chunks": report.chunks, "embedding_calls": report.embedding_calls,
        "elapsed_seconds": round(report.elapsed, 2), "rebuilt": report.rebuilt,
        "added_paths": report.added_paths, "updated_paths": report.updated_paths,
        "deleted_paths": report.deleted_paths,
    })
