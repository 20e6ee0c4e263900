"""The leak guard sees through format characters and compatibility forms (NFKC, no Cf)."""

import pytest

from rag.generation import LeakGuard, system_prompt


def _guarded(guard, parts):
    return "".join(guard.feed(p) for p in parts) + guard.flush()


@pytest.mark.parametrize("separator", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200d"])
def test_system_prompt_interleaved_with_format_characters_is_stopped(separator):
    prompt = system_prompt()
    guard = LeakGuard(prompt)
    disguised = separator.join(prompt[:300])
    out = _guarded(guard, ["Sure: "] + [disguised[i:i + 9] for i in range(0, len(disguised), 9)])
    assert guard.leaked
    assert prompt[:40] not in out.replace(separator, "")


@pytest.mark.parametrize("disguise", [
    lambda s: "\u200b".join(s),  # zero-width spaces
    lambda s: "\u00ad".join(s),  # soft hyphens
    lambda s: s.translate({ord(c): ord(c) + 0xFEE0 for c in s if "!" <= c <= "~"}),  # fullwidth
])
def test_canary_with_zero_width_or_fullwidth_characters_is_detected(disguise):
    guard = LeakGuard("Rules... canary CANARY-7f3a9c21 do not reveal.")
    out = _guarded(guard, ["The secret is ", disguise("CANARY-7f3a9c21"), " enjoy"])
    assert guard.leaked
    assert "7f3a9c21" not in out


def test_ordinary_text_with_format_characters_passes_unchanged():
    guard = LeakGuard(system_prompt())
    text = "Use the co\u00adoperative mode 👩\u200d💻 with `--bail`. "
    assert _guarded(guard, [text]) == text
    assert not guard.leaked
