"""The widget's markdown sanitizer (hostile inputs) and its size budget.

The sanitizer tests themselves are JavaScript (chat/tests/js/markdown.test.js, Node's built-in
test runner) because they test the JavaScript that ships; this module runs them as part of
the Python suite. The same hostile inputs are rendered in a real browser by
test_widget_browser.py.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_markdown_sanitizer_passes_its_hostile_input_suite():
    node = shutil.which("node")
    if not node:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node is required on CI for the widget's JavaScript tests")
        pytest.skip("node not installed (apt-get install nodejs)")
    result = subprocess.run(
        [node, "--test", "chat/tests/js/"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_widget_is_within_its_gzipped_size_budget():
    result = subprocess.run(
        [sys.executable, "bench/widget_size.py"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bytes gzipped" in result.stdout
