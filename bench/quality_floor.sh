#!/usr/bin/env bash
# Retrieval-quality floor on the Jest corpus, offline (sparse only, no LLM, no embeddings).
# Fails (exit 1) when recall@5, MRR@10 or refusal accuracy drop below the floors measured in
# docs/quality.md, or wrong refusals rise above theirs. Uses a throwaway database and index.
# Usage: bash bench/quality_floor.sh [path/to/corpora/jest]
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${1:-../shared/corpora/jest}"
if [ ! -f "$CORPUS/qa.jsonl" ]; then
  echo "quality_floor: no question set at $CORPUS/qa.jsonl" >&2
  exit 2
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export DJANGO_SETTINGS_MODULE=chatsite.settings_test
export CHATSITE_DATA_DIR="$TMP" DATABASE_URL="sqlite:///$TMP/db.sqlite3"
unset OPENAI_API_KEY EMBEDDING_MODEL QDRANT_URL
PY="${PYTHON:-.venv/bin/python}"
"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py rag_eval --docs "$CORPUS/docs" --questions "$CORPUS/qa.jsonl" \
  --index-dir "$TMP/index" --injection-ids o009,o010 --answers no \
  --min-recall 0.95 --min-mrr 0.85 --min-refusal 0.8 --max-wrong-refusal 0.05
