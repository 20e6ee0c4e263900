"""Whitenoise, serving static files without the ASGI sync-iterator warning.

Whitenoise hands Django a ``FileResponse`` over a synchronous file. Under ASGI (uvicorn,
how the service runs) Django then warns "StreamingHttpResponse must consume synchronous
iterators in order to serve them asynchronously" on every file and reads it through a
thread per chunk. This middleware gives ASGI requests an asynchronous iterator instead:
the same bytes, headers, ranges and HEAD handling (all still whitenoise's), with each
block read in a worker thread so the event loop never blocks on disk. WSGI requests get
whitenoise's response unchanged.
"""

import asyncio

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from whitenoise.middleware import WhiteNoiseFileResponse, WhiteNoiseMiddleware

from django.core.handlers.asgi import ASGIRequest

BLOCK_BYTES = 64 * 1024


async def _read_blocks(file):
    """The file's bytes in blocks, read off the event loop; closes the file at the end."""
    try:
        while block := await asyncio.to_thread(file.read, BLOCK_BYTES):
            yield block
    finally:
        file.close()


async def _nothing():
    """An empty asynchronous body (HEAD, 304)."""
    return
    yield


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """``whitenoise.middleware.WhiteNoiseMiddleware`` with asynchronous bodies under ASGI, and
    async-capable itself.

    Whitenoise's middleware is synchronous only. One sync-only middleware makes Django run
    every request's middleware chain through ``async_to_sync``/``sync_to_async`` around it —
    a thread start and join per request, the chat POST included (3–8 % of the server's CPU
    with 200 concurrent chats, docs/benchmarks.md). Under ASGI this one awaits the rest of
    the chain directly and touches the disk (file lookup with autorefresh, opening a file)
    in a worker thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, *args, **kwargs):
        super().__init__(get_response, *args, **kwargs)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request):
        if self.autorefresh:
            static_file = await asyncio.to_thread(self.find_file, request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await asyncio.to_thread(self.serve, static_file, request)
        return await self.get_response(request)

    @staticmethod
    def serve(static_file, request):
        if not isinstance(request, ASGIRequest):
            return WhiteNoiseMiddleware.serve(static_file, request)
        response = static_file.get_response(request.method, request.META)
        body = _read_blocks(response.file) if response.file is not None else _nothing()
        http_response = WhiteNoiseFileResponse(body, status=int(response.status))
        del http_response["content-type"]
        for key, value in response.headers:
            http_response[key] = value
        return http_response
