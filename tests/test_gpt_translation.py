"""The OpenAI chat translator's presets: the paper's sampling settings, greedy, and where they show."""

import io
import json
import urllib.request

import pytest

from conftest import load_script
from crossknow.core.model_spec import ModelSpec
from crossknow.models.translation import OpenAIChatTranslator, TranslationCache, make_translator, translate


@pytest.fixture
def fake_api(monkeypatch):
    """Answers every chat request with ``[fr] <user text>``; records the request bodies."""
    bodies = []

    def urlopen(request, timeout=None):
        body = json.loads(request.data)
        bodies.append(body)
        reply = {"choices": [{"message": {"role": "assistant", "content": "[fr] " + body["messages"][-1]["content"]}}]}
        return io.BytesIO(json.dumps(reply).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    return bodies


def test_the_paper_preset_sends_the_papers_request(fake_api):
    translator = make_translator("openai", "openai/gpt-3.5-turbo-0125", openai_preset="paper")
    assert translator.translate_batch(["Hello"], "en", "fr") == ["[fr] Hello"]
    assert fake_api == [{
        "model": "gpt-3.5-turbo-0125",
        "messages": [{"role": "system", "content": "Translate the following English text to French:"},
                     {"role": "user", "content": "Hello"}],
        "max_tokens": 64, "temperature": 0.7, "top_p": 1.0}]
    assert translator.name == "openai-paper"


def test_greedy_stays_the_default(fake_api):
    translator = OpenAIChatTranslator(ModelSpec.parse("openai/gpt-4-0613"))
    translator.translate_batch(["Hello"], "de", "en")
    assert (fake_api[0]["temperature"], fake_api[0]["max_tokens"], fake_api[0]["top_p"]) == (0.0, 1024, 1.0)
    assert fake_api[0]["messages"][0]["content"] == "Translate the following German text to English:"
    assert translator.name == "openai-greedy"


def test_the_cache_keeps_the_presets_apart(fake_api, tmp_path):
    cache = TranslationCache(tmp_path / "cache.sqlite")
    paper = OpenAIChatTranslator(ModelSpec.parse("openai/gpt-4-0613"), "paper")
    greedy = OpenAIChatTranslator(ModelSpec.parse("openai/gpt-4-0613"), "greedy")
    assert translate(paper, ["Hello"], "en", "fr", cache)[0].text == "[fr] Hello"
    assert translate(paper, ["Hello"], "en", "fr", cache)[0].text == "[fr] Hello"
    assert len(fake_api) == 1  # served from the cache
    translate(greedy, ["Hello"], "en", "fr", cache)
    assert len(fake_api) == 2 and fake_api[1]["temperature"] == 0.0  # asked again, greedily


def test_an_unknown_preset_is_refused(fake_api):
    with pytest.raises(ValueError, match="unknown OpenAI preset 'hot'; choose from paper, greedy"):
        OpenAIChatTranslator(ModelSpec.parse("openai/gpt-4-0613"), "hot")


def test_the_outputs_name_the_preset(fake_api, tmp_path):
    translate_script = load_script("Translation/translate.py")
    settings = translate_script.main([
        "--model", "openai/gpt-3.5-turbo-0125", "--system_name", "gpt-3.5-turbo-0125-paper", "--openai_preset",
        "paper", "--direction", "en2x", "--languages", "fr", "--num_examples", "2", "--output_dir", str(tmp_path)])
    written = json.loads((tmp_path / "gpt-3.5-turbo-0125-paper" / "settings.json").read_text())
    assert settings["translator"] == written["translator"] == "openai-paper:gpt-3.5-turbo-0125"
    assert len(fake_api) == 2 and all(b["temperature"] == 0.7 and b["max_tokens"] == 64 for b in fake_api)
    lines = (tmp_path / "gpt-3.5-turbo-0125-paper" / "test-en-fr").read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("[fr] ")
