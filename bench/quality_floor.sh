#!/usr/bin/env bash
# Retrieval-quality floors on every corpus CI can reach, offline (sparse only, no LLM, no
# embeddings): the Jest, Redux and React Native corpora beside the repository
# (../shared/corpora) and the classic-template and product-docs sets shipped in
# rag/tests/corpora. Each corpus has floors just under what docs/quality.md records, so a
# change that helps one corpus and hurts another fails here. The conversation run (every
# single question in ONE chat session) must stay within 0.02 of the standalone recall@5.
# Uses a throwaway database and index. About 20 s on an idle two-core machine (2-5 s per
# corpus, ingestion included), up to 2 minutes when the cores are shared.
# Usage: bash bench/quality_floor.sh [path/to/corpora]   (default ../shared/corpora)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA="${1:-../shared/corpora}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export DJANGO_SETTINGS_MODULE=chatsite.settings_test
export CHATSITE_DATA_DIR="$TMP" DATABASE_URL="sqlite:///$TMP/db.sqlite3"
unset OPENAI_API_KEY EMBEDDING_MODEL QDRANT_URL RAG_RELEVANCE_THRESHOLD
PY="${PYTHON:-.venv/bin/python}"
"$PY" manage.py migrate --no-input -v 0

# name | docs | questions | injection ids | min recall@5 | min MRR@10 | min refusal | max wrong refusals
FLOORS=(
  "jest|$CORPORA/jest/docs|$CORPORA/jest/qa.jsonl|o009,o010|0.95|0.85|0.90|0.05"
  "redux|$CORPORA/redux/docs|$CORPORA/redux/qa.jsonl|o007,o008|0.85|0.75|0.85|0.05"
  "react-native|$CORPORA/react-native|$CORPORA/react-native/qa.jsonl|o007,o008|0.85|0.75|0.90|0.05"
  "classic|rag/tests/corpora/classic/docs|rag/tests/corpora/classic/qa.jsonl|o005|0.95|0.90|0.90|0.05"
  "product|docs|rag/tests/corpora/product/qa.jsonl|o005|0.90|0.75|0.80|0.05"
)
failed=0
for row in "${FLOORS[@]}"; do
  IFS='|' read -r name docs questions injections recall mrr refusal wrong <<<"$row"
  if [ ! -f "$questions" ]; then
    echo "quality_floor: no question set for $name at $questions" >&2
    failed=1
    continue
  fi
  echo "== $name"
  started=$(date +%s)
  if ! "$PY" manage.py rag_eval --docs "$docs" --questions "$questions" \
      --index-dir "$TMP/index-$name" --collection "floor_$(echo "$name" | tr -c 'a-z0-9\n' _)" \
      --injection-ids "$injections" --answers no --baseline no --conversation \
      --min-recall "$recall" --min-mrr "$mrr" --min-refusal "$refusal" \
      --max-wrong-refusal "$wrong" --max-conversation-gap 0.02 2>"$TMP/$name.log" \
      | sed -n '/^set/,/^wrong-refusal/p'; then
    tail -3 "$TMP/$name.log" >&2
    failed=1
  fi
  echo "   ($(( $(date +%s) - started )) s)"
done
exit "$failed"
