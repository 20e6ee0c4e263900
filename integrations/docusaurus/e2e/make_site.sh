#!/usr/bin/env bash
# Create (once) and build a real Docusaurus 3 site with two docs versions (1.0 and the
# current one, where the intro page differs) and two locales (en, fr; the intro translated),
# with this repository's plugin installed from `npm pack`, as a docs team would.
#
# usage: [SITE_URL=http://127.0.0.1:PORT] make_site.sh CHAT_API_ORIGIN
# The site lives in $DOCUSAURUS_SITE_DIR (default /tmp/plugin-docusaurus/site), outside the
# repository, because `npm install` takes a while. Prints the build folder.
set -euo pipefail

api="${1:?usage: make_site.sh CHAT_API_ORIGIN}"
here="$(cd "$(dirname "$0")/.." && pwd)"
site="${DOCUSAURUS_SITE_DIR:-/tmp/plugin-docusaurus/site}"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export DOCUSAURUS_TELEMETRY_DISABLED=1

if [ ! -f "$site/node_modules/.installed" ]; then
  rm -rf "$site"
  mkdir -p "$(dirname "$site")"
  (cd "$(dirname "$site")" && npx --yes create-docusaurus@3 "$(basename "$site")" classic --javascript --skip-install) >&2
  (cd "$site" && npm install --no-audit --no-fund) >&2
  touch "$site/node_modules/.installed"
fi

# The plugin exactly as published: a tarball from `npm pack`, installed like any package.
pack_dir="$(dirname "$site")/pack"
mkdir -p "$pack_dir"
tarball="$(cd "$here" && npm pack --silent --pack-destination "$pack_dir" | tail -1)"
stamp="$(sha256sum "$pack_dir/$tarball" | cut -c1-16)"
if [ "$(cat "$site/.plugin-stamp" 2>/dev/null)" != "$stamp" ]; then
  (cd "$site" && npm install --no-audit --no-fund --no-save "$pack_dir/$tarball") >&2
  printf '%s' "$stamp" > "$site/.plugin-stamp"
  rm -f "$site/build/.chat-api"
fi

if [ ! -f "$site/.versioned" ]; then
  [ -d "$site/versioned_docs/version-1.0" ] || (cd "$site" && npx docusaurus docs:version 1.0) >&2
  # The current docs change after 1.0 was cut: a page that differs between versions.
  python3 - "$site" <<'PY'
import pathlib, sys
site = pathlib.Path(sys.argv[1])
intro = site / "docs" / "intro.mdx"
intro.write_text(intro.read_text("utf-8").replace(
    "## Getting Started",
    "## Getting Started\n\nThe chat server port is 7070 since version 2. The quasar cache is"
    " enabled with the `--quasar-cache` flag.",
    1), "utf-8")
old = site / "versioned_docs" / "version-1.0" / "intro.mdx"
old.write_text(old.read_text("utf-8").replace(
    "## Getting Started",
    "## Getting Started\n\nThe chat server port is 6060 in version 1.0. The quasar cache is"
    " enabled with the `--legacy-quasar` flag.",
    1), "utf-8")
fr = site / "i18n" / "fr" / "docusaurus-plugin-content-docs" / "current" / "intro.mdx"
fr.parent.mkdir(parents=True, exist_ok=True)
fr.write_text(
    "---\nsidebar_position: 1\n---\n\n# Présentation du tutoriel\n\n"
    "Découvrez **Docusaurus en moins de 5 minutes**.\n\n## Pour commencer\n\n"
    "Le cache quasar s'active avec l'option `--quasar-cache`. Le port du serveur de chat est 7070.\n\n"
    "```bash\nnpm run start -- --quasar-cache\n```\n", "utf-8")
cfg = site / "docusaurus.config.js"
text = cfg.read_text("utf-8")
text = text.replace("locales: ['en'],", "locales: ['en', 'fr'],", 1)
entry = ("  plugins: [['docusaurus-plugin-docs-chat', {server: process.env.CHAT_API}]],\n\n")
anchor = "  presets: ["
if anchor not in text or "locales: ['en', 'fr']" not in text:
    sys.exit("the create-docusaurus template changed: cannot find presets/locales in docusaurus.config.js")
cfg.write_text(text.replace(anchor, entry + anchor, 1), "utf-8")
PY
  touch "$site/.versioned"
fi

config="$site/docusaurus.config.js"
if ! grep -q 'process.env.SITE_URL' "$config"; then
  # The site's own address (Docusaurus' `url`) comes from the environment, so the test can
  # serve the build on any free port and every manifest URL opens there.
  sed -i "s|^  url: '\(.*\)',|  url: process.env.SITE_URL \|\| '\1',|" "$config"
  grep -q 'process.env.SITE_URL' "$config" || { echo "cannot set url in $config" >&2; exit 1; }
fi

stamp_build="$api ${SITE_URL:-}"
if [ "$(cat "$site/build/.chat-api" 2>/dev/null)" != "$stamp_build" ]; then
  (cd "$site" && CHAT_API="$api" SITE_URL="${SITE_URL:-}" npm run build) >&2
  printf '%s' "$stamp_build" > "$site/build/.chat-api"
fi
echo "$site/build"
