"""manage.py rag_search "question": show what retrieval returns for a question."""

import json

from django.core.management.base import BaseCommand, CommandError

from rag.conf import rag_settings
from rag.exceptions import RetrievalUnavailable
from rag.relevance import corpus_stats, decide, relevance_threshold
from rag.retrieval import MAX_K, search


class Command(BaseCommand):
    help = "Show the chunks the assistant would retrieve for a question (score, path, URL, heading, text)."

    def add_arguments(self, parser):
        parser.add_argument("question", help="The question to search for, in quotes.")
        parser.add_argument("--k", type=int, default=5, help=f"How many hits to show (1-{MAX_K}, default 5).")
        parser.add_argument("--json", action="store_true", help="Print the hits as JSON instead of text.")
        parser.add_argument("--collection", default=None,
                            help="Index collection to search (default: the RAG_COLLECTION setting).")
        parser.add_argument("--docs-version", dest="docs_version", default=None,
                            help="Only pages of this docs version (e.g. current, 2.0).")
        parser.add_argument("--locale", default=None, help="Only pages in this locale (e.g. en, fr).")

    def handle(self, *args, **options):
        question = options["question"].strip()
        if not question:
            raise CommandError("Give a question to search for, e.g. rag_search \"how do I mock a module\"")
        if not 1 <= options["k"] <= MAX_K:
            raise CommandError(f"--k must be between 1 and {MAX_K}")
        try:
            result = search(query=question, k=options["k"], collection=options["collection"],
                            version=options["docs_version"], locale=options["locale"])
        except RetrievalUnavailable as exc:
            raise CommandError(str(exc)) from exc
        stats = corpus_stats(options["collection"])
        decision = decide(question=question, hits=result.hits, collection=options["collection"],
                          stats=stats) if stats is not None else None
        calibration = stats.calibration.to_dict() if stats and stats.calibration else None
        relevance = {
            "threshold": relevance_threshold(stats),
            "source": "RAG_RELEVANCE_THRESHOLD" if rag_settings.RELEVANCE_THRESHOLD is not None
            else ("calibrated" if calibration else "fallback"),
            "calibration": calibration,
            "score": round(decision.score, 4) if decision else None,
            "covered": (not decision.refused) if decision else None,
            "reason": decision.reason if decision else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps({
                "query": question, "mode": result.mode, "elapsed_ms": round(result.elapsed_ms, 2),
                "relevance": relevance, "hits": [hit.to_dict() for hit in result.hits],
            }, indent=2, ensure_ascii=False))
            return
        if not result.hits:
            self.stdout.write("No hits.")
        for n, hit in enumerate(result.hits, 1):
            snippet = " ".join(hit.text.split())
            snippet = snippet[:300] + ("…" if len(snippet) > 300 else "")
            heading = " > ".join(hit.heading_path) or hit.title
            self.stdout.write(self.style.SUCCESS(f"{n}. {hit.score:.4f}  {hit.path}") + f"  ({heading})")
            self.stdout.write(f"   {hit.url}")
            self.stdout.write(f"   {snippet}")
        self.stdout.write(f"{len(result.hits)} hits in {result.elapsed_ms:.1f} ms ({result.mode})")
        line = f"relevance threshold {relevance['threshold']:.4f} ({relevance['source']}"
        if calibration:
            line += (f": off-topic q90 {calibration['offtopic_quantile']:.4f}, own headings q05 "
                     f"{calibration['heading_quantile']:.4f}")
        self.stdout.write(line + ")")
        if decision:
            verdict = "covered" if not decision.refused else f"not covered ({decision.reason})"
            self.stdout.write(f"this question: score {decision.score:.4f}, {verdict}")
