"""``manage.py rag_eval``: ingest docs into separate collections and score question sets.

One corpus (``--docs`` + ``--questions``) or several (``--corpus DIR``, repeatable): each is
reported on its own, then the macro average and spread over all of them, because parameters
are chosen by what holds across corpora, never by one set.
"""

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from rag import clients
from rag.conf import rag_settings
from rag.evaluation import (
    EVAL_SEARCH_K,
    MRR_CUTOFF,
    QuestionFileError,
    corpus_layout,
    evaluate,
    evaluate_conversation,
    load_questions,
    macro_average,
    resolve_expected,
)

DEFAULT_BASE_URL = "https://docs.example.test"


@dataclass
class CorpusRun:
    name: str
    docs: Path
    questions: Path
    items: list
    prefix: str
    corpus_files: set


class Command(BaseCommand):
    help = (
        "Score retrieval and answers on question sets (JSON lines, schema of the Jest corpus' "
        "qa.jsonl): recall@k (strict and version-lenient), MRR@10, follow-up recall, refusal "
        "accuracy, wrong refusals, the lunr search-box baseline and, with answers, key facts "
        "and citation precision. Several corpora give a per-corpus report plus the macro "
        "average and spread. The docs are ingested into separate collections (and, with the "
        "embedded index, a temporary folder), never the live one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--corpus", action="append", default=[],
                            help="Corpus folder holding qa.jsonl and docs/ (or a Docusaurus "
                                 "site with versioned_docs/); repeat for several corpora.")
        parser.add_argument("--docs", help="Docusaurus docs folder to ingest (one corpus).")
        parser.add_argument("--questions", help="Question file (.jsonl) for --docs.")
        parser.add_argument("--k", type=int, default=5, help="Cutoff for recall@k (default 5).")
        parser.add_argument("--json", action="store_true", help="Print one JSON report.")
        parser.add_argument("--base-url", default="",
                            help=f"Site URL for the ingested pages (default {DEFAULT_BASE_URL}).")
        parser.add_argument("--collection", default="rag_eval",
                            help="Collection to ingest into (default rag_eval; several corpora "
                                 "get numbered suffixes).")
        parser.add_argument("--index-dir", default="",
                            help="Embedded index folder (default: a fresh temporary folder).")
        parser.add_argument("--answers", choices=("auto", "yes", "no"), default="auto",
                            help="Also generate and check full answers (auto: when an LLM is "
                                 "configured).")
        parser.add_argument("--baseline", choices=("auto", "yes", "no"), default="auto",
                            help="Report the lunr search-box baseline beside each corpus (auto: "
                                 "when the lunr package is installed).")
        parser.add_argument("--conversation", action="store_true",
                            help="Also ask every single question of a set one after another in "
                                 "ONE chat session, through the chat turn (a throwaway session, "
                                 "deleted afterwards).")
        parser.add_argument("--injection-ids", default="",
                            help="Comma-separated ids of prompt-injection items, reported apart "
                                 "(default: items phrased as injections).")
        parser.add_argument("--min-recall", type=float,
                            help="Fail when recall@k of any corpus is below this.")
        parser.add_argument("--min-mrr", type=float, help="Fail when MRR@10 of any corpus is below this.")
        parser.add_argument("--min-refusal", type=float,
                            help="Fail when refusal accuracy of any corpus is below this.")
        parser.add_argument("--max-wrong-refusal", type=float,
                            help="Fail when the wrong-refusal rate of any corpus is above this.")
        parser.add_argument("--max-conversation-gap", type=float,
                            help="Fail when conversation recall@k is this much below standalone.")

    def handle(self, *args, **options):
        if options["k"] < 1:
            raise CommandError("--k must be at least 1.")
        runs = self._runs = self._corpora(options)
        injection_ids = {i.strip() for i in options["injection_ids"].split(",") if i.strip()} or None
        answers = {"yes": True, "no": False}.get(options["answers"], clients.llm_configured())
        baseline = self._baseline_wanted(options["baseline"])
        runner = None
        if options["conversation"]:
            if not rag_settings.CONVERSATION_RUNNER:
                raise CommandError("--conversation needs RAG_CONVERSATION_RUNNER (the chat app's "
                                   "chat.evaluation.conversation_session).")
            runner = import_string(rag_settings.CONVERSATION_RUNNER)

        reports = {}
        with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
            for number, run in enumerate(runs):
                collection = options["collection"] + (f"_{number}" if len(runs) > 1 else "")
                root = Path(options["index_dir"]) if options["index_dir"] else Path(tmp)
                index_dir = root / collection if len(runs) > 1 else root
                embedded = not rag_settings.QDRANT_URL
                overrides = {"RAG_INDEX_DIR": index_dir} if embedded else {}
                with override_settings(**overrides, RAG_COLLECTION=collection):
                    clients.reset_clients()
                    try:
                        reports[run.name] = self._run(options, run, collection, answers, baseline,
                                                      runner, injection_ids)
                    finally:
                        clients.reset_clients()
        report = reports[runs[0].name] if len(runs) == 1 else {
            "k": options["k"], "mrr_cutoff": MRR_CUTOFF, "corpora": reports,
            "macro": macro_average(reports)}
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            for name, single in reports.items():
                self._print(name, single)
            if len(runs) > 1:
                self._print_macro(report["macro"], reports)
        self._check_floors(reports, options)

    def _corpora(self, options) -> list[CorpusRun]:
        pairs = []
        for folder in options["corpus"]:
            root = Path(folder).expanduser()
            if not root.is_dir():
                raise CommandError(f"--corpus {root} is not a folder; give a folder holding qa.jsonl.")
            docs, questions = corpus_layout(root)
            pairs.append((root.resolve().name, docs, questions))
        if options["docs"] or options["questions"]:
            if not (options["docs"] and options["questions"]):
                raise CommandError("--docs and --questions go together (or use --corpus DIR).")
            docs = Path(options["docs"]).expanduser()
            questions = Path(options["questions"]).expanduser()
            pairs.append((questions.resolve().parent.name or "docs", docs, questions))
        if not pairs:
            raise CommandError("Give --corpus DIR (repeatable) or --docs and --questions.")
        runs, names = [], set()
        for name, docs, questions in pairs:
            if not docs.is_dir():
                raise CommandError(f"{docs} is not a folder; point --docs at the docs to ingest.")
            if not questions.is_file():
                raise CommandError(f"{questions} is not a file; give a .jsonl question set.")
            try:
                items = load_questions(questions)
                prefix, corpus_files = resolve_expected(docs, questions, items)
            except QuestionFileError as exc:
                raise CommandError(f"{questions}: {exc}") from exc
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {questions}: {exc}") from exc
            while name in names:
                name += "'"
            names.add(name)
            runs.append(CorpusRun(name, docs, questions, items, prefix, corpus_files))
        return runs

    def _baseline_wanted(self, choice: str) -> bool:
        if choice == "no":
            return False
        try:
            import lunr  # noqa: F401
        except ImportError as exc:
            if choice == "yes":
                raise CommandError("--baseline yes needs the lunr package "
                                   "(pip install -r requirements-dev.txt).") from exc
            self.stderr.write("lunr is not installed: no search-box baseline in this report.")
            return False
        return True

    def _run(self, options, run, collection, answers, baseline, runner, injection_ids):
        from rag.baseline import build_baseline
        from rag.exceptions import RagError
        from rag.ingestion import ingest_docs

        base_url = options["base_url"] or rag_settings.DOCS_BASE_URL or DEFAULT_BASE_URL
        self.stderr.write(f"Ingesting {run.docs} into collection '{collection}'…")
        try:
            ingest_docs(docs_path=run.docs, base_url=base_url, collection=collection)
        except (RagError, OSError, ValueError) as exc:
            raise CommandError(f"ingesting {run.docs} failed: {exc}") from exc
        lunr_index = build_baseline(run.docs, base_url=base_url) if baseline else None

        def progress(number, total, result):
            if result.answerable:
                status = f"rank {result.rank}" if result.rank else "MISS"
                status += " (refused)" if result.refused else ""
            else:
                status = "refused" if result.refusal_correct else "ANSWERED"
            label = f"{run.name} " if len(self._runs) > 1 else ""
            self.stderr.write(f"[{label}{number}/{total}] {result.id} {status}")

        async def go():
            report = await evaluate(run.items, prefix=run.prefix, collection=collection,
                                    k=options["k"], answers=answers, corpus_files=run.corpus_files,
                                    injection_ids=injection_ids, baseline=lunr_index,
                                    progress=progress)
            if runner is not None:
                from rag.services import PROBE_K

                depth = PROBE_K.set(EVAL_SEARCH_K)
                try:
                    async with runner() as ask:
                        report["metrics"]["conversation"] = await evaluate_conversation(
                            run.items, prefix=run.prefix, k=options["k"], ask=ask)
                finally:
                    PROBE_K.reset(depth)
            return report

        return asyncio.run(go())

    def _print(self, name, report):
        k, metrics = report["k"], report["metrics"]
        recall, mrr = f"recall@{k}", f"mrr@{MRR_CUTOFF}"
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}"))
        self.stdout.write(f"{'set':<14}{'items':>7}{recall:>11}{mrr:>10}")
        for label in ("all", "single", "followup"):
            row = metrics[label]
            self.stdout.write(
                f"{label:<14}{row['items']:>7}{_fmt(row[recall]):>11}{_fmt(row[mrr]):>10}")
        if "baseline" in metrics:
            row = metrics["baseline"]
            self.stdout.write(f"{'lunr baseline':<14}{metrics['all']['items']:>7}"
                              f"{_fmt(row[recall]):>11}{_fmt(row[mrr]):>10}")
        conversation = metrics.get("conversation")
        if conversation:
            self.stdout.write(f"{'conversation':<14}{conversation['items']:>7}"
                              f"{_fmt(conversation[recall]):>11}{_fmt(conversation[mrr]):>10}"
                              f"   key facts {_fmt(conversation['key_fact_hit_rate'])}, "
                              f"history used {conversation['history_used']}x")
            if conversation["out_of_scope"]:
                self.stdout.write(f"refusal accuracy in the conversation ({conversation['out_of_scope']} "
                                  f"out-of-scope turns): {_fmt(conversation['refusal_accuracy'])}")
        self.stdout.write(f"version-lenient {recall}: {_fmt(metrics[f'{recall}_lenient'])}")
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

    def _print_macro(self, macro, reports):
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(
            f"== macro average over {len(reports)} corpora ({', '.join(reports)})"))
        self.stdout.write(f"{'metric':<28}{'mean':>8}{'min':>8}{'max':>8}")
        for label, row in macro.items():
            self.stdout.write(f"{label:<28}{row['mean']:>8.3f}{row['min']:>8.3f}{row['max']:>8.3f}")

    def _check_floors(self, reports, options):
        failures = []
        for name, report in reports.items():
            k, metrics = report["k"], report["metrics"]
            floors = (
                ("min_recall", metrics["all"][f"recall@{k}"], f"recall@{k}"),
                ("min_mrr", metrics["all"][f"mrr@{MRR_CUTOFF}"], f"MRR@{MRR_CUTOFF}"),
                ("min_refusal", metrics["refusal_accuracy"], "refusal accuracy"),
            )
            if metrics.get("conversation", {}).get("refusal_accuracy") is not None:
                floors += (("min_refusal", metrics["conversation"]["refusal_accuracy"],
                            "refusal accuracy in the conversation"),)
            for option, value, label in floors:
                floor = options.get(option)
                if floor is not None and (value is None or value < floor):
                    failures.append(f"{name}: {label} {_fmt(value)} is below the floor {floor}")
            ceiling = options.get("max_wrong_refusal")
            wrong = metrics["wrong_refusal_rate"]
            if ceiling is not None and wrong is not None and wrong > ceiling:
                failures.append(f"{name}: wrong-refusal rate {_fmt(wrong)} is above the ceiling {ceiling}")
            gap = options.get("max_conversation_gap")
            conversation = metrics.get("conversation")
            if gap is not None and conversation:
                alone = metrics["single"][f"recall@{k}"] or 0.0
                if alone - (conversation[f"recall@{k}"] or 0.0) > gap + 1e-9:
                    failures.append(f"{name}: conversation recall@{k} "
                                    f"{_fmt(conversation[f'recall@{k}'])} is more than {gap} below "
                                    f"standalone {_fmt(alone)}")
        if failures:
            raise CommandError("Quality below the floor: " + "; ".join(failures))
        watched = ("min_recall", "min_mrr", "min_refusal", "max_wrong_refusal", "max_conversation_gap")
        if any(options.get(o) is not None for o in watched):
            self.stderr.write(self.style.SUCCESS("All quality floors met."))


def _missed(item, k) -> bool:
    if item["kind"] == "out_of_scope":
        return not item["refusal_correct"]
    return (item["refused"] or not item["rank"] or item["rank"] > k
            or item["facts_found"] is False or item["cites_expected"] is False)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
