#!/usr/bin/env bash
# Create (once) and build a real Docusaurus 3 site (classic template, from the npm registry)
# whose every page loads the chat widget from the chat server, as docs teams are told to do
# in docs/docusaurus-setup.md.
#
# usage: make_docusaurus_site.sh CHAT_API_ORIGIN
#   e.g. make_docusaurus_site.sh http://127.0.0.1:8000
#
# The site lives in $DOCUSAURUS_SITE_DIR (default: ~/.cache/chatsite/docusaurus-site), outside
# the repository, because `npm install` takes a while; later runs only rebuild. The built site
# is in "$DOCUSAURUS_SITE_DIR/build"; serve it with any static server. Prints that path.
set -euo pipefail

api="${1:?usage: make_docusaurus_site.sh CHAT_API_ORIGIN (e.g. http://127.0.0.1:8000)}"
site="${DOCUSAURUS_SITE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chatsite/docusaurus-site}"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export DOCUSAURUS_TELEMETRY_DISABLED=1

if [ ! -f "$site/node_modules/.installed" ]; then
  rm -rf "$site"
  mkdir -p "$(dirname "$site")"
  (cd "$(dirname "$site")" && npx --yes create-docusaurus@3 "$(basename "$site")" classic --javascript --skip-install) >&2
  (cd "$site" && npm install --no-audit --no-fund) >&2
  touch "$site/node_modules/.installed"
fi

config="$site/docusaurus.config.js"
if ! grep -q 'CHAT_API' "$config"; then
  # The one entry a docs team adds. The API origin comes from the environment at build time
  # so the test suite can run the chat server on any free port.
  python3 - "$config" <<'PY'
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
entry = (
    "  scripts: [\n"
    "    {\n"
    "      src: `${process.env.CHAT_API}/static/chat/widget.js`,\n"
    "      defer: true,\n"
    "      'data-api': process.env.CHAT_API,\n"
    "    },\n"
    "  ],\n\n"
)
anchor = "  presets: ["
if anchor not in text:
    sys.exit(f"cannot find {anchor!r} in {path}; the create-docusaurus template changed")
open(path, "w", encoding="utf-8").write(text.replace(anchor, entry + anchor, 1))
PY
fi

if [ "$(cat "$site/build/.chat-api" 2>/dev/null)" != "$api" ]; then
  (cd "$site" && CHAT_API="$api" npm run build) >&2
  printf '%s' "$api" > "$site/build/.chat-api"
fi
echo "$site/build"
