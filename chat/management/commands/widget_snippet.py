"""``manage.py widget_snippet``: the snippet a docs site pastes to load the widget, with SRI."""

from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from chat.widget import widget_asset


class Command(BaseCommand):
    help = (
        "Print the docusaurus.config.js `scripts` entry (or the <script> tag) that loads the "
        "chat widget, pinned with its Subresource Integrity hash. With STATIC_MANIFEST=true "
        "and after collectstatic, the URL is the content-hashed copy of the file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--api", required=True,
            help="The chat server's public origin, e.g. https://chat.example.com",
        )
        parser.add_argument(
            "--format", choices=["docusaurus", "html", "integrity"], default="docusaurus",
            help="docusaurus: a scripts entry (default); html: a <script> tag; integrity: only the hash.",
        )

    def handle(self, *args, **options):
        api = options["api"].rstrip("/")
        parts = urlsplit(api)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise CommandError(
                f"--api must be an origin like https://chat.example.com (scheme and host, no path); got {api!r}"
            )
        try:
            asset = widget_asset(api_origin=api)
        except ValueError as exc:
            raise CommandError(
                f"The content-hashed widget is not collected yet ({exc}). Run `manage.py collectstatic`."
            ) from exc
        if options["format"] == "integrity":
            self.stdout.write(asset.integrity)
        elif options["format"] == "html":
            self.stdout.write(
                f'<script src="{asset.url}" integrity="{asset.integrity}" crossorigin="anonymous" '
                f'defer data-api="{api}"></script>'
            )
        else:
            self.stdout.write(
                "scripts: [\n"
                "  {\n"
                f"    src: '{asset.url}',\n"
                "    defer: true,\n"
                f"    integrity: '{asset.integrity}',\n"
                "    crossorigin: 'anonymous',\n"
                f"    'data-api': '{api}',\n"
                "  },\n"
                "],"
            )
        if not asset.hashed:
            self.stderr.write(
                "Note: this URL always serves the newest widget; after an upgrade the hash no "
                "longer matches. Set STATIC_MANIFEST=true and run collectstatic for a "
                "content-hashed URL."
            )
