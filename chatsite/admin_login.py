"""Throttle password guessing on the admin login page.

Django's admin login has no rate limit: an attacker tried 40 passwords in under ten seconds.
This middleware counts failed admin logins (the login page answered 200 again instead of
redirecting) per client IP and per username in the shared cache, and once either reaches
``ADMIN_LOGIN_MAX_FAILURES`` within ``ADMIN_LOGIN_WINDOW_SECONDS`` answers further login
attempts with 429 and ``Retry-After``, without checking the password. A successful login
clears the IP's count. The client IP is DRF's ``get_ident`` (``REMOTE_ADDR``, or with
``NUM_PROXIES`` the address the nearest trusted proxy saw), as for the chat API's limits.

It is both sync and async capable and touches nothing but POSTs to the login URL, so the
async chat views keep running without a thread hop. Restricting ``/admin/`` to an internal
host at the proxy (docs/security.md) remains the stronger measure.
"""

import hashlib

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from rest_framework.throttling import BaseThrottle

KEY_PREFIX = "admin-login-failures"


def _login_path() -> str | None:
    try:
        return reverse("admin:login")
    except NoReverseMatch:
        return None


def _keys(request) -> list[str]:
    ident = BaseThrottle().get_ident(request)
    username = str(request.POST.get("username", "")).strip().lower()
    keys = [f"{KEY_PREFIX}:ip:{ident}"]
    if username:
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        keys.append(f"{KEY_PREFIX}:user:{digest}")
    return keys


def _too_many() -> HttpResponse:
    window = settings.ADMIN_LOGIN_WINDOW_SECONDS
    response = HttpResponse(
        f"Too many failed login attempts. Try again in {window // 60} minutes.\n",
        status=429, content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(window)
    return response


def _is_login_attempt(request) -> bool:
    return request.method == "POST" and request.path == _login_path()


def _blocked(used: dict) -> bool:
    return any(count >= settings.ADMIN_LOGIN_MAX_FAILURES for count in used.values())


def _record(keys: list[str], response) -> None:
    window = settings.ADMIN_LOGIN_WINDOW_SECONDS
    if response.status_code == 200:  # the form again: wrong credentials
        for key in keys:
            if not cache.add(key, 1, window):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, window)
    elif 300 <= response.status_code < 400:  # logged in
        cache.delete(keys[0])


class AdminLoginThrottle:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if not _is_login_attempt(request):
            return self.get_response(request)
        keys = _keys(request)
        if _blocked(cache.get_many(keys)):
            return _too_many()
        response = self.get_response(request)
        _record(keys, response)
        return response

    async def __acall__(self, request):
        if not _is_login_attempt(request):
            return await self.get_response(request)
        keys = await sync_to_async(_keys)(request)  # reads the form body
        if _blocked(await cache.aget_many(keys)):
            return _too_many()
        response = await self.get_response(request)
        await sync_to_async(_record)(keys, response)
        return response
