"""System checks (``manage.py check``) for the search index.

The embedded index must be readable by every worker process of a multi-worker server
(``uvicorn --workers N``, gunicorn with uvicorn workers); a configuration that cannot do that
would answer from one worker and give source-less answers (HTTP 200) from the others, so it
is reported here before the server starts rather than found out from answers:

- ``rag.E001`` (error): ``RAG_INDEX_DIR`` is on a filesystem without ``flock``, which the
  workers need to share generations safely.
- ``rag.W001`` (warning; an error under ``check --deploy``): the live generation was built by
  an earlier version and only one process can open it. A warning in plain ``check`` because an
  error would also stop ``migrate`` and ``ingest_docs``, and ``ingest_docs`` is the fix.
"""

from django.core.checks import Error, Warning, register

from .conf import rag_settings


def _sharing_problem() -> str | None:
    if rag_settings.QDRANT_URL:
        return None  # a Qdrant server serves any number of clients
    from .index import EdgeIndex

    try:
        return EdgeIndex(rag_settings.INDEX_DIR).sharing_problem(rag_settings.COLLECTION)
    except Exception as exc:  # noqa: BLE001 - a damaged CURRENT file is reported, not raised
        return f"The embedded index cannot be read: {exc}"


_HINT = "Until then /readyz answers 503 and answers carry no sources."


@register("rag")
def check_index_serves_all_workers(app_configs=None, **kwargs):
    problem = _sharing_problem()
    if problem is None:
        return []
    if "flock" in problem:
        return [Error(problem, id="rag.E001",
                      hint="Every worker opens the index; they coordinate clean-up with flock.")]
    return [Warning(problem, id="rag.W001", hint=_HINT)]


@register("rag", deploy=True)
def check_index_serves_all_workers_deploy(app_configs=None, **kwargs):
    problem = _sharing_problem()
    if problem is None or "flock" in problem:
        return []  # no problem, or already an error in the check above
    return [Error(problem, id="rag.E002", hint=_HINT)]
