"""The model contract, the same tests for every backend and every translator.

Backends are built through the registry (``make_backend``): the real Hugging Face backend on a tiny
local model, vLLM with a stand-in engine in place of the ``vllm`` package (the tiny model answers),
the OpenAI backend against a local chat server. Translators: the real seq2seq (tiny M2M100),
causal-LM and Apertium (when installed) translators; stand-ins for the services that need the
network (a local chat server for OpenAI, a stand-in ``googletrans`` module for Google).
"""

from __future__ import annotations

import json
import shutil
import sys
from types import SimpleNamespace

import pytest
from test_vllm_backend import FakeLLM, FakeSamplingParams

from conftest import LABELS, demo_prompts
from crossknow.core.model_spec import ModelSpec
from crossknow.models import backends as registry
from crossknow.models.model_api import (
    ANSWER_TOKEN_CONVENTIONS,
    CAPABILITIES,
    GENERATION,
    LETTER_SCORES,
    LOGLIKELIHOOD,
    Backend,
    LetterScores,
    UnsupportedOperation,
    require,
)
from crossknow.models.translation import (
    ApertiumTranslator,
    CausalLMTranslator,
    GoogleTranslator,
    HFSeq2SeqTranslator,
    OpenAIChatTranslator,
    Translator,
    translate,
)
from test_openai_backend import FakeChatServer

BACKEND_NAMES = ("hf", "vllm", "openai")
TEXTS = ["The cat sleeps.", "A red house.", "Water is wet.", "Hello world.", "Good morning."]


# --- backends ---


@pytest.fixture
def chat_server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeChatServer([]) as server:  # answers "A" to every request
        yield server


@pytest.fixture
def build_backend(request, bpe_model_dir, chat_server, monkeypatch):
    """``build(batch_size)``: the backend named by the test's parameter, made by the registry."""
    name = request.param
    if name == "openai":
        spec = ModelSpec.parse("openai/gpt-test")
        return lambda batch_size=1: registry.make_backend(spec, api_base=chat_server.url)
    spec = ModelSpec.parse(str(bpe_model_dir))
    if name == "vllm":
        from crossknow.models import vllm_backend
        from crossknow.models.hf_backend import load_model

        model, tokenizer = load_model(spec, dtype="fp32", device="cpu")
        engine = SimpleNamespace(LLM=lambda **kwargs: FakeLLM(model, tokenizer), SamplingParams=FakeSamplingParams)
        monkeypatch.setattr(vllm_backend, "_vllm", lambda: engine)
    return lambda batch_size=1: registry.make_backend(spec, backend=name, dtype="fp32", device="cpu",
                                                      batch_size=batch_size, show_progress=False)


backend_param = pytest.mark.parametrize("build_backend", BACKEND_NAMES, indirect=True)


def declared(backend, capability: str) -> bool:
    return capability in backend.capabilities


@backend_param
def test_a_backend_keeps_the_protocol_and_describes_itself(build_backend, request):
    backend = build_backend()
    assert isinstance(backend, Backend)
    assert backend.name == request.node.callspec.params["build_backend"]
    assert backend.capabilities and backend.capabilities <= set(CAPABILITIES)
    description = backend.describe()
    assert description["backend"] == backend.name
    json.dumps(description)  # recorded in every result's config block


@backend_param
def test_the_class_checked_before_loading_declares_what_the_backend_offers(build_backend):
    backend = build_backend()
    spec = ModelSpec.parse("openai/gpt-test") if backend.name == "openai" else ModelSpec.parse("org/model")
    cls = registry.backend_class(spec, "hf" if backend.name == "openai" else backend.name)
    assert cls is type(backend) and cls.capabilities == backend.capabilities


@backend_param
def test_letter_scores_have_the_documented_shape(build_backend):
    backend = build_backend()
    if not declared(backend, LETTER_SCORES):
        pytest.skip(f"{backend.name} declares no letter scores (refusal tested below)")
    ids = backend.answer_token_ids(LABELS)
    assert set(ids) == set(ANSWER_TOKEN_CONVENTIONS)
    assert all(len(v) == len(LABELS) and all(isinstance(i, int) for i in v) for v in ids.values())
    prompts = demo_prompts(k=1)[:4]
    scores = backend.score_letters(prompts, LABELS)
    assert len(scores) == len(prompts) and all(isinstance(s, LetterScores) for s in scores)
    for score in scores:
        assert set(score.probs) == set(ANSWER_TOKEN_CONVENTIONS)
        for probs in score.probs.values():
            assert len(probs) == len(LABELS) and min(probs) >= 0 and sum(probs) == pytest.approx(1, abs=1e-5)


@backend_param
def test_loglikelihoods_have_the_documented_shape(build_backend):
    backend = build_backend()
    if not declared(backend, LOGLIKELIHOOD):
        pytest.skip(f"{backend.name} declares no loglikelihood (refusal tested below)")
    values = backend.loglikelihood(TEXTS)
    assert len(values) == len(TEXTS) and all(isinstance(v, float) and v <= 0 for v in values)


@backend_param
def test_generation_has_the_documented_shape_and_ends_at_stop_strings(build_backend):
    backend = build_backend()
    assert declared(backend, GENERATION)  # every backend generates
    prompts = demo_prompts()[:3]
    texts = backend.generate(prompts, max_new_tokens=4, stop=["\n"])
    assert len(texts) == len(prompts) and all(isinstance(t, str) and "\n" not in t for t in texts)


@backend_param
def test_undeclared_operations_are_refused_by_name(build_backend):
    backend = build_backend()
    calls = {LETTER_SCORES: lambda: backend.score_letters(demo_prompts()[:1], LABELS),
             LOGLIKELIHOOD: lambda: backend.loglikelihood(TEXTS[:1]),
             GENERATION: lambda: backend.generate(demo_prompts()[:1], max_new_tokens=1)}
    for capability in CAPABILITIES:
        if declared(backend, capability):
            require(backend, capability)  # no error
            continue
        with pytest.raises(UnsupportedOperation, match=f"^the {backend.name} backend cannot give "
                                                       f"{capability.replace('_', ' ')}; it offers: "):
            calls[capability]()
    with pytest.raises(ValueError, match="^unknown capability 'logits'; known: letter_scores, "):
        require(backend, "logits")


@backend_param
def test_batch_size_does_not_change_predictions(build_backend):
    one, many = build_backend(batch_size=1), build_backend(batch_size=4)
    prompts = demo_prompts(k=1)[:6]
    if declared(one, LETTER_SCORES):
        for a, b in zip(one.score_letters(prompts, LABELS), many.score_letters(prompts, LABELS), strict=True):
            for convention in ANSWER_TOKEN_CONVENTIONS:
                assert a.probs[convention] == pytest.approx(b.probs[convention], abs=1e-5)
                assert a.probs[convention].index(max(a.probs[convention])) == \
                    b.probs[convention].index(max(b.probs[convention]))
    if declared(one, LOGLIKELIHOOD):
        assert one.loglikelihood(TEXTS) == pytest.approx(many.loglikelihood(TEXTS), abs=1e-4)
    assert one.generate(prompts, max_new_tokens=3) == many.generate(prompts, max_new_tokens=3)
    # a list scored at once equals its prompts scored one by one
    together = many.generate(prompts, max_new_tokens=3)
    assert together == [many.generate([p], max_new_tokens=3)[0] for p in prompts]


@backend_param
def test_a_model_name_not_parsed_is_refused(build_backend):
    from crossknow.models.hf_backend import load_model
    from crossknow.models.loading import load_tokenizer

    backend = build_backend()
    name = "openai/gpt-test" if backend.name == "openai" else "org/model"
    loaders = [registry.make_backend, registry.backend_class]
    loaders += [load_model, load_tokenizer] if backend.name == "hf" else [type(backend)]
    for load in loaders:
        with pytest.raises(TypeError, match=r"takes a ModelSpec, got str '.*': parse the name once with ModelSpec.parse$"):
            load(name)


def test_the_registry_refuses_unknown_kinds_and_backends_in_one_line():
    odd = ModelSpec(name="x", kind="tgi", path="x", tokenizer="x", tag="x")
    with pytest.raises(ValueError, match=r"^no backend serves x \(model kind 'tgi'\); kinds served: openai, embedded, "
                                         r"gguf, local, hub$"):
        registry.backend_entry(odd)
    with pytest.raises(ValueError, match="^unknown backend 'tgi'; choose hf or vllm$"):
        registry.make_backend(ModelSpec.parse("org/model"), backend="tgi")
    with pytest.raises(ValueError, match=r"^--backend vllm: openai/gpt-4 is served by openai \(openai model\)$"):
        registry.backend_entry(ModelSpec.parse("openai/gpt-4"), "vllm")
    with pytest.raises(ValueError, match="^backend x: unknown model kind\\(s\\) tgi; known: embedded, openai, "):
        registry.register_backend("x", ("tgi",), "crossknow.models.hf_backend:HFBackend")


def test_each_kind_is_served_by_the_registered_backends():
    assert registry.BACKENDS == ("hf", "vllm")
    for name in ("smollm2", "org/model", "x.gguf"):
        spec = ModelSpec.parse(name)
        assert registry.backend_entry(spec).name == "hf" and registry.backend_entry(spec, "vllm").name == "vllm"
    assert registry.backend_entry(ModelSpec.parse("openai/gpt-4")).name == "openai"


# --- translators ---


@pytest.fixture
def build_translator(request, bpe_model_dir, chat_server, tmp_path, monkeypatch):
    """``build()``: the translator named by the test's parameter."""
    name = request.param
    if name == "hf-seq2seq":
        return lambda: seq2seq_translator(tmp_path)
    if name == "llm":
        spec = ModelSpec.parse(str(bpe_model_dir))
        return lambda: CausalLMTranslator(spec, max_new_tokens=4, batch_size=2, dtype="fp32")
    if name == "openai":
        return lambda: OpenAIChatTranslator(ModelSpec.parse("openai/gpt-test"), base_url=chat_server.url, max_retries=0)
    if name == "google":
        monkeypatch.setitem(sys.modules, "googletrans", SimpleNamespace(Translator=FakeGoogle))
        return GoogleTranslator
    if shutil.which("apertium") is None:
        pytest.skip("apertium is not installed (.ci/run installs it)")
    return ApertiumTranslator


class FakeGoogle:
    def translate(self, texts, src, dest):
        return [SimpleNamespace(text=f"[{dest}] {t}") for t in texts]


def seq2seq_translator(tmp_path) -> HFSeq2SeqTranslator:
    import sentencepiece as spm
    from test_translation import sentencepiece_model, tiny_m2m100
    from transformers import M2M100Tokenizer

    sp_model = sentencepiece_model(tmp_path)
    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    (tmp_path / "vocab.json").write_text(json.dumps({sp.id_to_piece(i): i for i in range(sp.get_piece_size())}))
    tokenizer = M2M100Tokenizer(vocab_file=str(tmp_path / "vocab.json"), spm_file=str(sp_model))
    return HFSeq2SeqTranslator(ModelSpec.parse("tiny-m2m100"), device="cpu", num_beams=1, max_new_tokens=5,
                               model_obj=tiny_m2m100(vocab_size=300), tokenizer=tokenizer)


TRANSLATOR_NAMES = ("hf-seq2seq", "llm", "openai", "google", "apertium")
translator_param = pytest.mark.parametrize("build_translator", TRANSLATOR_NAMES, indirect=True)
# A pair each translator cannot do, and the start of its one-line refusal; None: it takes any pair.
UNSUPPORTED = {"hf-seq2seq": (("en", "ace"), "tiny-m2m100: m2m100 has no code for language 'ace'"),
               "apertium": (("en", "de"), "apertium cannot translate en->de")}


@translator_param
def test_a_translator_keeps_the_protocol(build_translator, request):
    translator = build_translator()
    assert isinstance(translator, Translator)
    assert isinstance(translator.name, str) and isinstance(translator.model, str)
    has_model_choice = request.node.callspec.params["build_translator"] not in ("google", "apertium")
    assert isinstance(translator.spec, ModelSpec) if has_model_choice else translator.spec is None


@translator_param
def test_translate_batch_gives_one_string_per_text_in_order(build_translator):
    translator = build_translator()
    outputs = translator.translate_batch(TEXTS[:3], "en", "es")
    assert isinstance(outputs, list) and len(outputs) == 3 and all(isinstance(o, str) for o in outputs)


@translator_param
def test_batch_size_does_not_change_translations(build_translator):
    translator = build_translator()
    one = translate(translator, TEXTS, "en", "es", batch_size=1)
    many = translate(translator, TEXTS, "en", "es", batch_size=4)
    assert [(r.text, r.ok) for r in one] == [(r.text, r.ok) for r in many]


@translator_param
def test_an_unsupported_pair_is_refused_in_one_line_before_any_work(build_translator, request):
    translator = build_translator()
    name = request.node.callspec.params["build_translator"]
    if name not in UNSUPPORTED:
        for src, tgt in (("en", "fr"), ("de", "ja"), ("sw", "it")):
            assert translator.check_pair(src, tgt) is None
        return
    (src, tgt), message = UNSUPPORTED[name]
    with pytest.raises(Exception, match=f"^{message}") as refused:
        translate(translator, TEXTS, src, tgt)
    assert "\n" not in str(refused.value)


@translator_param
def test_bad_languages_are_refused_in_one_line(build_translator):
    translator = build_translator()
    with pytest.raises(Exception, match="^source and target language are both 'es'$"):
        translate(translator, TEXTS, "es", "es")
    with pytest.raises(Exception, match="xx") as refused:
        translate(translator, TEXTS, "en", "xx")
    assert "\n" not in str(refused.value)


def test_an_object_that_is_not_a_translator_is_refused():
    class Half:
        name, model = "half", "v1"

        def translate_batch(self, texts, src, tgt):
            return texts

    with pytest.raises(TypeError, match="^Half is not a Translator: it lacks spec, check_pair$"):
        translate(Half(), TEXTS, "en", "fr")


@pytest.mark.parametrize("make", [
    lambda: HFSeq2SeqTranslator("tiny-m2m100"),
    lambda: CausalLMTranslator("smollm2"),
    lambda: OpenAIChatTranslator("gpt-4", api_key="k"),
])
def test_translators_take_a_parsed_model(make):
    with pytest.raises(TypeError, match="takes a ModelSpec, got str"):
        make()
