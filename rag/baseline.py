"""The search box the assistant replaces, as a baseline for ``rag_eval``.

Docusaurus sites usually search with lunr (the engine of docusaurus-search-local): BM25 over
whole pages, the title and headings boosted, the query as the user typed it. The assistant
has to find the right page clearly better than that, so the evaluator reports this baseline
next to every corpus. It uses the ``lunr`` package (a faithful port of lunr.js: its
tokenizer, stop words, Porter stemmer and BM25 with k1=1.2, b=0.75), so the numbers are the
ones a lunr-based search box would give, not those of our own tokenizer.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from .documents import load_pages

# Field boosts of a lunr page index: a title match outweighs a heading match, which
# outweighs a body match (docusaurus-search-local boosts titles and headings the same way).
TITLE_BOOST = 10
HEADING_BOOST = 5
# lunr's query syntax (field:term, +required, ~fuzzy, ^boost, * wildcard) would turn typed
# punctuation into operators; a search box escapes it, so do we.
_QUERY_SYNTAX = re.compile(r"[:+\-~^*]")


@dataclass(frozen=True)
class BaselineIndex:
    index: object  # lunr.index.Index

    def ranked_paths(self, question: str, limit: int = 10) -> list[str]:
        """Page paths (relative to the docs folder) best first, for the question as typed."""
        from lunr.exceptions import BaseLunrException

        query = _QUERY_SYNTAX.sub(" ", question)
        try:
            results = self.index.search(query)
        except BaseLunrException:  # a query lunr cannot parse: a search box shows nothing
            return []
        return [r["ref"] for r in results[:limit]]


def build_baseline(docs_path: Path, *, base_url: str) -> BaselineIndex:
    """A lunr index over the pages ``ingest_docs`` would index (same parser, same pages)."""
    from lunr import lunr

    documents = []
    for page in load_pages(Path(docs_path), base_url=base_url):
        headings = [s.heading for s in page.sections if s.heading]
        documents.append({
            "path": page.path,
            "title": page.title,
            "headings": " ".join(headings),
            "body": "\n".join(s.text for s in page.sections),
        })
    index = lunr(ref="path", fields=[
        {"field_name": "title", "boost": TITLE_BOOST},
        {"field_name": "headings", "boost": HEADING_BOOST},
        {"field_name": "body", "boost": 1},
    ], documents=documents)
    return BaselineIndex(index=index)
