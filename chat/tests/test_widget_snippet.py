"""``manage.py widget_snippet``: the SRI-pinned snippet for the widget, plain and content-hashed."""

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest

from django.core.management import CommandError, call_command
from django.test import Client, override_settings

WIDGET = Path(__file__).resolve().parents[1] / "static" / "chat" / "widget.js"
MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def snippet(*args) -> str:
    out = io.StringIO()
    call_command("widget_snippet", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_snippet_pins_the_stable_url_with_the_files_integrity():
    text = snippet("--api", "https://chat.example.com")
    assert "src: 'https://chat.example.com/static/chat/widget.js'" in text
    assert f"integrity: '{sri(WIDGET.read_bytes())}'" in text
    assert "crossorigin: 'anonymous'" in text
    assert "'data-api': 'https://chat.example.com'" in text


def test_html_snippet_is_a_script_tag():
    text = snippet("--api", "https://chat.example.com/", "--format", "html")
    assert text.strip() == (
        f'<script src="https://chat.example.com/static/chat/widget.js" integrity="{sri(WIDGET.read_bytes())}" '
        'crossorigin="anonymous" defer data-api="https://chat.example.com"></script>'
    )


@pytest.mark.parametrize("api", ["chat.example.com", "ftp://chat.example.com", "https://chat.example.com/api"])
def test_api_must_be_an_origin(api):
    with pytest.raises(CommandError, match="--api must be an origin"):
        snippet("--api", api)


def test_manifest_storage_gives_a_content_hashed_url_served_immutable(tmp_path):
    with override_settings(STORAGES=MANIFEST_STORAGES, STATIC_ROOT=tmp_path / "static", DEBUG=False):
        with pytest.raises(CommandError, match="collectstatic"):
            snippet("--api", "https://chat.example.com")
        call_command("collectstatic", interactive=False, verbosity=0)
        text = snippet("--api", "https://chat.example.com", "--format", "html")
        url = re.search(r'src="https://chat\.example\.com(/static/chat/widget\.[0-9a-f]{12}\.js)"', text).group(1)
        response = Client().get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert body == WIDGET.read_bytes()
    assert f'integrity="{sri(body)}"' in text
