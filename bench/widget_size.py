"""Print the chat widget's size as served, and fail if it is over its budget.

The widget is one file, `chat/static/chat/widget.js`, loaded by every page of a docs site,
so its transfer size is the cost every reader pays. Budget: 20 kB gzipped (issue 4).

    python bench/widget_size.py            # prints sizes, exit status 1 when over budget
    python bench/widget_size.py --budget 15000
"""

import argparse
import gzip
import sys
from pathlib import Path

WIDGET = Path(__file__).resolve().parent.parent / "chat" / "static" / "chat" / "widget.js"
BUDGET_BYTES = 20_000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=BUDGET_BYTES, help="maximum gzipped bytes")
    parser.add_argument("--file", type=Path, default=WIDGET, help="the widget file to measure")
    args = parser.parse_args(argv)

    raw = args.file.read_bytes()
    gzipped = len(gzip.compress(raw, compresslevel=9, mtime=0))
    verdict = "OK" if gzipped <= args.budget else "OVER BUDGET"
    sys.stdout.write(
        f"{args.file.name}: {len(raw)} bytes raw, {gzipped} bytes gzipped "
        f"(budget {args.budget}, {gzipped / args.budget:.0%} used) {verdict}\n"
    )
    return 0 if gzipped <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
