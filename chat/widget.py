"""The widget bundle as a docs site loads it: its URL and its Subresource Integrity hash.

With the default static storage the URL is the stable ``/static/chat/widget.js``. With a
manifest storage (``STATIC_MANIFEST=true`` after ``collectstatic``) it is the content-hashed
copy, e.g. ``/static/chat/widget.3f2a9c1b7d4e.js``, which whitenoise serves with a one-year
``immutable`` cache lifetime. The integrity is computed from the bytes at that URL.
"""

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import urljoin

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

WIDGET_PATH = "chat/widget.js"


@dataclass(frozen=True)
class WidgetAsset:
    url: str  # absolute, on the chat server's public origin
    integrity: str  # "sha384-<base64>"
    hashed: bool  # True when the URL names a content-hashed copy


def widget_asset(*, api_origin: str) -> WidgetAsset:
    """Where the widget is served and its SRI hash.

    Raises ``ValueError`` when a manifest storage is configured but ``collectstatic`` has
    not been run (the hashed name is unknown).
    """
    path = staticfiles_storage.url(WIDGET_PATH)
    stored_name = getattr(staticfiles_storage, "stored_name", None)
    if stored_name is not None:
        with staticfiles_storage.open(stored_name(WIDGET_PATH)) as handle:
            content = handle.read()
        hashed = True
    else:
        with open(finders.find(WIDGET_PATH), "rb") as handle:
            content = handle.read()
        hashed = False
    digest = base64.b64encode(hashlib.sha384(content).digest()).decode("ascii")
    return WidgetAsset(url=urljoin(api_origin.rstrip("/") + "/", path.lstrip("/")),
                       integrity=f"sha384-{digest}", hashed=hashed)
