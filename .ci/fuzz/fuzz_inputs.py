"""A bounded, coverage-guided fuzz run (atheris/libFuzzer) over the code that reads hostile
input: the API's JSON body parser and request serializers, the Markdown/front-matter reader
of ingestion, and the answer's link filter.

Each input picks a target with its first byte. A target may reject its input only in the
documented way (ParseError / RequestTooLarge, serializer errors, DocumentError); any other
exception is a crash and fails the run. The link filter must also be idempotent (its output
holds no link it would remove). Run by .ci/checks/fuzz:

    .venv/bin/python .ci/fuzz/fuzz_inputs.py -max_total_time=40 -rss_limit_mb=2048
"""

import io
import os
import sys
from collections import Counter

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings_test")

import django  # noqa: E402

django.setup()

with atheris.instrument_imports(include=["chat", "rag"]):
    from chat.exceptions import RequestTooLarge
    from chat.serializers import ChatRequestSerializer, HistoryAppendSerializer
    from chat.views import BoundedJSONParser
    from rag.documents import DocumentError, mdx_to_markdown, split_front_matter, split_sections
    from rag.link_filter import filter_urls

from rest_framework.exceptions import ParseError  # noqa: E402

ALLOWED = ["https://docs.example.test", "https://docs.example.test/docs/intro"]
runs: Counter = Counter()


def fuzz_json(data: bytes) -> None:
    try:
        parsed = BoundedJSONParser().parse(io.BytesIO(data))
    except (ParseError, RequestTooLarge):
        return
    for serializer in (ChatRequestSerializer, HistoryAppendSerializer):
        serializer(data=parsed).is_valid()


def fuzz_markdown(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    try:
        _, body = split_front_matter(text)
    except DocumentError:
        body = text
    split_sections(mdx_to_markdown(body))


def fuzz_links(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    once = filter_urls(text, ALLOWED)
    assert filter_urls(once, ALLOWED) == once, (text, once)


TARGETS = [("json", fuzz_json), ("markdown", fuzz_markdown), ("links", fuzz_links)]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    name, target = TARGETS[data[0] % len(TARGETS)]
    runs[name] += 1
    target(data[1:])
    total = sum(runs.values())
    if total >= 4096 and total & (total - 1) == 0:  # libFuzzer exits without Python's atexit
        report()


def report() -> None:
    total = sum(runs.values())
    detail = ", ".join(f"{name} {runs[name]}" for name, _ in TARGETS)
    print(f"fuzz: {total} iterations ({detail})", flush=True)


if __name__ == "__main__":
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
    atheris.Setup(sys.argv + ([seeds] if os.path.isdir(seeds) else []), test_one_input)
    atheris.Fuzz()
