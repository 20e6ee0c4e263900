"""``manage.py rag_eval``: ingest a docs folder into a separate collection and score a question set."""

import asyncio
import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from rag import clients
from rag.conf import rag_settings
from rag.evaluation import MRR_CUTOFF, QuestionFileError, evaluate, load_questions

DEFAULT_BASE_URL = "https://docs.example.test"


class Command(BaseCommand):
    help = (
        "Score retrieval and answers on a question set (JSON lines, schema of the Jest corpus' "
        "qa.jsonl): recall@k, MRR@10, follow-up recall, refusal accuracy, wrong refusals and, "
        "with answers, key facts and citation precision. The docs are ingested into a separate "
        "collection (and, with the embedded index, a temporary folder), never the live one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--docs", required=True, help="Docusaurus docs folder to ingest.")
        parser.add_argument("--questions", required=True, help="Question file (.jsonl).")
        parser.add_argument("--k", type=int, default=5, help="Cutoff for recall@k (default 5).")
        parser.add_argument("--json", action="store_true", help="Print one JSON report.")
        parser.add_argument("--base-url", default="",
                            help=f"Site URL for the ingested pages (default {DEFAULT_BASE_URL}).")
        parser.add_argument("--collection", default="rag_eval",
                            help="Collection to ingest into (default rag_eval).")
        parser.add_argument("--index-dir", default="",
                            help="Embedded index folder (default: a fresh temporary folder).")
        parser.add_argument("--answers", choices=("auto", "yes", "no"), default="auto",
                            help="Also generate and check full answers (auto: when an LLM is "
                                 "configured).")
        parser.add_argument("--injection-ids", default="",
                            help="Comma-separated ids of prompt-injection items, reported apart "
                                 "(default: items phrased as injections).")
        parser.add_argument("--min-recall", type=float, help="Fail when recall@k is below this.")
        parser.add_argument("--min-mrr", type=float, help="Fail when MRR@10 is below this.")
        parser.add_argument("--min-refusal", type=float,
                            help="Fail when refusal accuracy is below this.")
        parser.add_argument("--max-wrong-refusal", type=float,
                            help="Fail when the wrong-refusal rate is above this.")

    def handle(self, *args, **options):
        docs = Path(options["docs"]).expanduser()
        questions = Path(options["questions"]).expanduser()
        if not docs.is_dir():
            raise CommandError(f"--docs {docs} is not a folder; point it at the docs to ingest.")
        if not questions.is_file():
            raise CommandError(f"--questions {questions} is not a file; give a .jsonl question set.")
        if options["k"] < 1:
            raise CommandError("--k must be at least 1.")
        try:
            items = load_questions(questions)
        except QuestionFileError as exc:
            raise CommandError(f"{questions}: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {questions}: {exc}") from exc

        # Expected paths are relative to the question file's folder; hit paths to the docs'.
        prefix = os.path.relpath(docs.resolve(), questions.resolve().parent).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix
        corpus_files = {
            f"{prefix}/{p.relative_to(docs).as_posix()}" if prefix else p.relative_to(docs).as_posix()
            for p in docs.rglob("*") if p.is_file()
        }
        injection_ids = {i.strip() for i in options["injection_ids"].split(",") if i.strip()} or None
        answers = {"yes": True, "no": False}.get(options["answers"], clients.llm_configured())
        if answers and options["answers"] == "yes" and not clients.llm_configured():
            answers = True  # offline: the extractive answers are checked

        with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
            index_dir = Path(options["index_dir"]) if options["index_dir"] else Path(tmp)
            embedded = not rag_settings.QDRANT_URL
            overrides = {"RAG_INDEX_DIR": index_dir} if embedded else {}
            with override_settings(**overrides):
                clients.reset_clients()
                try:
                    report = self._run(options, docs, items, prefix, corpus_files, answers,
                                       injection_ids)
                finally:
                    clients.reset_clients()

        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._print(report)
        self._check_floors(report, options)

    def _run(self, options, docs, items, prefix, corpus_files, answers, injection_ids):
        from rag.exceptions import RagError
        from rag.ingestion import ingest_docs

        collection = options["collection"]
        base_url = options["base_url"] or rag_settings.DOCS_BASE_URL or DEFAULT_BASE_URL
        self.stderr.write(f"Ingesting {docs} into collection '{collection}'…")
        try:
            ingest_docs(docs_path=docs, base_url=base_url, collection=collection)
        except (RagError, OSError, ValueError) as exc:
            raise CommandError(f"ingesting {docs} failed: {exc}") from exc

        def progress(number, total, result):
            if result.answerable:
                status = f"rank {result.rank}" if result.rank else "MISS"
                status += " (refused)" if result.refused else ""
            else:
                status = "refused" if result.refusal_correct else "ANSWERED"
            self.stderr.write(f"[{number}/{total}] {result.id} {status}")

        return asyncio.run(evaluate(items, prefix=prefix, collection=collection,
                                    k=options["k"], answers=answers, corpus_files=corpus_files,
                                    injection_ids=injection_ids, progress=progress))

    def _print(self, report):
        k, metrics = report["k"], report["metrics"]
        recall, mrr = f"recall@{k}", f"mrr@{MRR_CUTOFF}"
        self.stdout.write("")
        self.stdout.write(f"{'set':<12}{'items':>7}{recall:>11}{mrr:>10}")
        for name in ("all", "single", "followup"):
            row = metrics[name]
            self.stdout.write(
                f"{name:<12}{row['items']:>7}{_fmt(row[recall]):>11}{_fmt(row[mrr]):>10}")
        self.stdout.write("")
        self.stdout.write(f"refusal accuracy (out of scope): {_fmt(metrics['refusal_accuracy'])}")
        self.stdout.write(
            f"  prompt injections {', '.join(metrics['injection_items']) or '-'}: "
            f"{_fmt(metrics['refusal_accuracy_injection'])}")
        self.stdout.write(f"wrong-refusal rate (answerable): {_fmt(metrics['wrong_refusal_rate'])}")
        if "answers" in metrics:
            a = metrics["answers"]
            self.stdout.write(
                f"answers ({a['items']} answered): key facts {_fmt(a['key_fact_hit_rate'])}, "
                f"citation precision {_fmt(a['citation_precision'])}, "
                f"citations outside the corpus {a['cites_outside_corpus']}")
        misses = [i for i in report["items"] if _missed(i, k)]
        if misses:
            self.stdout.write("")
            self.stdout.write("Misses:")
        for item in misses:
            if item["kind"] == "out_of_scope":
                why = f"not refused (score {item['score']}, top {item['ranked'][:2]})"
            elif item["refused"]:
                why = f"wrongly refused ({item['reason']}, score {item['score']})"
            elif not item["rank"] or item["rank"] > k:
                why = f"expected {item['expected']} not in top {k}: {item['ranked'][:k]}"
            else:
                why = "answer misses key facts" if item["facts_found"] is False else \
                    "answer cites no expected file"
            self.stdout.write(f"  {item['id']} [{item['kind']}] {why}")
            self.stdout.write(f"      q: {item['question'][:110]}")

    def _check_floors(self, report, options):
        k, metrics = report["k"], report["metrics"]
        failures = []
        floors = (
            ("min_recall", metrics["all"][f"recall@{k}"], f"recall@{k}"),
            ("min_mrr", metrics["all"][f"mrr@{MRR_CUTOFF}"], f"MRR@{MRR_CUTOFF}"),
            ("min_refusal", metrics["refusal_accuracy"], "refusal accuracy"),
        )
        for option, value, label in floors:
            floor = options.get(option)
            if floor is not None and (value is None or value < floor):
                failures.append(f"{label} {_fmt(value)} is below the floor {floor}")
        ceiling = options.get("max_wrong_refusal")
        wrong = metrics["wrong_refusal_rate"]
        if ceiling is not None and wrong is not None and wrong > ceiling:
            failures.append(f"wrong-refusal rate {_fmt(wrong)} is above the ceiling {ceiling}")
        if failures:
            raise CommandError("Quality below the floor: " + "; ".join(failures))
        if any(options.get(o[0]) is not None for o in floors) or ceiling is not None:
            self.stderr.write(self.style.SUCCESS("All quality floors met."))


def _missed(item, k) -> bool:
    if item["kind"] == "out_of_scope":
        return not item["refusal_correct"]
    return (item["refused"] or not item["rank"] or item["rank"] > k
            or item["facts_found"] is False or item["cites_expected"] is False)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
