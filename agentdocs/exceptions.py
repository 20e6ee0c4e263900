"""Errors of the agent endpoints. Each carries a code and a message safe to show a client:
the HTTP views answer with the API's JSON error shape, the MCP tools with a tool error."""


class AgentDocsError(Exception):
    code = "agentdocs_error"
    status = 400
    message = "The request could not be served."

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 retry_after: int | None = None):
        self.message = message or self.message
        self.field = field
        self.retry_after = retry_after
        super().__init__(self.message)


class InvalidArgument(AgentDocsError):
    code = "invalid"
    status = 400


class PageNotFound(AgentDocsError):
    code = "page_not_found"
    status = 404
    message = "No indexed page has that URL or path."


class DocsNotIndexed(AgentDocsError):
    code = "not_indexed"
    status = 503
    message = ("No documentation is indexed on this server yet; an operator has to run "
               "`manage.py ingest_docs`.")


class DocsUnavailable(AgentDocsError):
    code = "index_unavailable"
    status = 503
    message = "The documentation index cannot be read right now. Retry in a moment."


class RateLimited(AgentDocsError):
    code = "rate_limited"
    status = 429
    message = "Too many requests from this client."


class Unauthorized(AgentDocsError):
    code = "unauthorized"
    status = 401
    message = "These docs are private: send 'Authorization: Bearer <token>'."
