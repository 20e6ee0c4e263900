"""The admin against hostile input: client-supplied source links and password guessing."""

import pytest

from chat.admin import safe_link_url


@pytest.mark.parametrize("url", [
    "/\\evil.example/x", "\\\\evil.example/x", "\\/evil.example/x", "//evil.example/x",
    "https:/evil.example/x", "https:evil.example/x",
    "javascript:alert(1)", "java\tscript:alert(1)", " javascript:alert(1)",
    "mailto:a@evil.example?body=x", "https://docs.example@evil.example/",
])
def test_admin_never_links_a_url_the_browser_would_send_elsewhere(url):
    assert safe_link_url(url) is None


@pytest.mark.parametrize("url", [
    "/docs/intro", "/docs/intro#install", "https://docs.example/docs/a?b=1", "http://127.0.0.1:8000/",
])
def test_admin_links_site_paths_and_http_urls(url):
    assert safe_link_url(url) == url


# Password guessing on /admin/login/


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.test", "right-pass-1234")


def _login(client, username, password, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                       **extra)


@pytest.mark.django_db
def test_admin_login_is_throttled_after_repeated_failures(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 5
    statuses = [_login(client, "boss", f"guess-{i}").status_code for i in range(40)]
    assert statuses[:5] == [200] * 5  # the form again, with an error
    assert set(statuses[5:]) == {429}
    blocked = _login(client, "boss", "right-pass-1234")
    assert blocked.status_code == 429  # not even the right password is checked now
    assert int(blocked["Retry-After"]) == settings.ADMIN_LOGIN_WINDOW_SECONDS


@pytest.mark.django_db
def test_guessing_one_username_from_many_addresses_is_throttled(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 5
    statuses = [_login(client, "boss", "nope", REMOTE_ADDR=f"10.0.0.{i}").status_code
                for i in range(1, 10)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}


@pytest.mark.django_db
def test_a_correct_login_still_works_and_other_addresses_are_not_blocked(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        _login(client, "someone", "nope", REMOTE_ADDR="10.0.0.1")
    assert _login(client, "someone", "nope", REMOTE_ADDR="10.0.0.1").status_code == 429
    response = _login(client, "boss", "right-pass-1234", REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302
