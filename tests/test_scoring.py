"""Letter scoring on tiny models: batch invariance, agreement with the paper's method, token ids,
the backend contract; and a mutation check that these comparisons catch a broken engine."""

import pytest
import torch

from conftest import LABELS, demo_prompts, paper_method_probs
from crossknow.core.model_spec import ModelSpec
from crossknow.core.prompt import Prompt
from crossknow.models import batching, model_api, prefix_reuse
from crossknow.models.hf_backend import HFBackend, load_model
from crossknow.models.model_api import GENERATION, LETTER_SCORES, LOGLIKELIHOOD, UnsupportedOperation, letter_token_ids


def assert_same_scores(a_scores, b_scores, conventions=("paper", "space")):
    assert len(a_scores) == len(b_scores)
    for a, b in zip(a_scores, b_scores):
        for convention in conventions:
            assert a.probs[convention] == pytest.approx(b.probs[convention], abs=1e-4)
            argmax = max(range(4), key=a.probs[convention].__getitem__)
            assert argmax == max(range(4), key=b.probs[convention].__getitem__)


def check_batch_invariance(model, tokenizer, prefix_cache: bool):
    prompts = demo_prompts(k=2)
    one = HFBackend(model, tokenizer, batch_size=1, prefix_cache=prefix_cache).score_letters(prompts, LABELS)
    many = HFBackend(model, tokenizer, batch_size=7, prefix_cache=prefix_cache).score_letters(prompts, LABELS)
    assert_same_scores(one, many)


def check_engine_equals_paper(model, tokenizer, prefix_cache: bool = True):
    prompts = demo_prompts(k=1)[:8]
    ids = letter_token_ids(tokenizer, LABELS, "paper")
    scores = HFBackend(model, tokenizer, batch_size=4, prefix_cache=prefix_cache).score_letters(prompts, LABELS)
    for prompt, score in zip(prompts, scores):
        assert score.probs["paper"] == pytest.approx(paper_method_probs(model, tokenizer, prompt.text, ids), abs=1e-4)


def check_prefix_reuse(model, tokenizer, k: int):
    prompts = demo_prompts(k=k, variant="full_de")
    whole = HFBackend(model, tokenizer, batch_size=8, prefix_cache=False).score_letters(prompts, LABELS)
    reused = HFBackend(model, tokenizer, batch_size=8, prefix_cache=True).score_letters(prompts, LABELS)
    assert_same_scores(whole, reused)
    for prompt, a, b in zip(prompts, whole, reused):
        assert a.reused_prefix_tokens == 0
        prefix_tokens = len(tokenizer(prompt.prefix).input_ids)
        # The split point is at most the prefix's own tokens, and never far before them.
        assert prefix_tokens - 3 <= b.reused_prefix_tokens <= prefix_tokens
        full = tokenizer(prompt.text).input_ids
        assert full[: b.reused_prefix_tokens] == tokenizer(prompt.prefix).input_ids[: b.reused_prefix_tokens]


@pytest.mark.parametrize("prefix_cache", [False, True])
def test_batch_size_does_not_change_predictions(tiny_model_dir, prefix_cache):
    check_batch_invariance(*load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cpu"), prefix_cache)


@pytest.mark.parametrize("prefix_cache", [False, True])
def test_engine_equals_the_paper_method(tiny_model_dir, prefix_cache):
    check_engine_equals_paper(*load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cpu"), prefix_cache)


@pytest.mark.parametrize("k", [0, 5])
def test_prefix_reuse_equals_scoring_whole_prompts(tiny_model_dir, k):
    check_prefix_reuse(*load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cpu"), k)


def _padding_attended(sequences, pad_id, device=None):
    input_ids, mask, positions = REAL_PAD_LEFT(sequences, pad_id, device)
    return input_ids, torch.ones_like(mask), positions


def _letters_swapped(tokenizer, labels, convention):
    ids = REAL_LETTER_IDS(tokenizer, labels, convention)
    return [ids[1], ids[0], *ids[2:]]


REAL_PAD_LEFT, REAL_LETTER_IDS = batching.pad_left, model_api.letter_token_ids


def _hf_backend_module():
    from crossknow.models import hf_backend

    return hf_backend


MUTATIONS = {
    # an attention mask that lets a row see its padding: rows no longer compute what they would alone
    "padding attended": (lambda: _hf_backend_module(), "pad_left", _padding_attended,
                                lambda m, t: check_batch_invariance(m, t, prefix_cache=False)),
    # the letter ids of A and B swapped: not the paper's softmax over the letters' logits
    "letters swapped": (lambda: _hf_backend_module(), "letter_token_ids", _letters_swapped,
                        lambda m, t: check_engine_equals_paper(m, t)),
    # one token too many taken as shared: a question's first token is replaced by the prefix's
    "prefix split one token late": (lambda: prefix_reuse, "common_prefix_length",
                                    lambda a, b: sum(1 for x, y in zip(a, b) if x == y) + 1,
                                    lambda m, t: check_prefix_reuse(m, t, k=0)),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_scoring_checks_catch_a_broken_engine(bpe_model_dir, monkeypatch, mutation):
    module, name, broken, check = MUTATIONS[mutation]
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    check(model, tokenizer)  # the real engine passes
    monkeypatch.setattr(module(), name, broken)
    with pytest.raises((AssertionError, IndexError, RuntimeError)):
        check(model, tokenizer)


def test_letter_token_conventions(tiny_model_dir):
    _, tokenizer = load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cpu")
    paper = letter_token_ids(tokenizer, LABELS, "paper")
    space = letter_token_ids(tokenizer, LABELS, "space")
    if tokenizer.bos_token == "<s>":  # SentencePiece style: "▁A" either way
        assert paper == space
        assert tokenizer.convert_ids_to_tokens(paper) == ["▁A", "▁B", "▁C", "▁D"]
    else:  # byte-level BPE: "A" vs "ĠA"
        assert tokenizer.convert_ids_to_tokens(paper) == ["A", "B", "C", "D"]
        assert tokenizer.convert_ids_to_tokens(space) == ["ĠA", "ĠB", "ĠC", "ĠD"]
    with pytest.raises(ValueError, match="unknown answer token convention 'lm'"):
        letter_token_ids(tokenizer, LABELS, "lm")


class OOMOnLargeBatches(torch.nn.Module):
    """Wraps a model and raises CUDA-style out-of-memory for batches above a size."""

    def __init__(self, model, max_batch: int):
        super().__init__()
        self.inner, self.max_batch, self.seen = model, max_batch, []

    def forward(self, input_ids, **kwargs):
        self.seen.append(input_ids.shape[0])
        if input_ids.shape[0] > self.max_batch:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.inner(input_ids=input_ids, **kwargs)


def test_auto_batch_size_backs_off_on_out_of_memory(bpe_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    prompts = demo_prompts()[:20]
    reference = HFBackend(model, tokenizer, batch_size=1).score_letters(prompts, LABELS)
    wrapped = OOMOnLargeBatches(model, max_batch=5)
    backend = HFBackend(wrapped, tokenizer, batch_size="auto", prefix_cache=False, max_auto_batch_size=16,
                        min_batch_fill=0.0)
    scores = backend.score_letters(prompts, LABELS)
    assert wrapped.seen[:3] == [16, 8, 4] and backend.batcher.batch_size_used == 4
    assert_same_scores(reference, scores, conventions=("paper",))


def test_a_real_error_is_not_swallowed(bpe_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    wrapped = OOMOnLargeBatches(model, max_batch=0)
    with pytest.raises(torch.OutOfMemoryError):
        HFBackend(wrapped, tokenizer, batch_size=2).score_letters(demo_prompts()[:2], LABELS)


def test_generation_is_batch_invariant_and_one_output_per_prompt(bpe_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    prompts = demo_prompts()[:6]
    one = HFBackend(model, tokenizer, batch_size=1).generate(prompts, max_new_tokens=5)
    many = HFBackend(model, tokenizer, batch_size=6).generate(prompts, max_new_tokens=5)
    assert len(one) == 6 and one == many


def test_generation_ends_before_the_first_stop_string(bpe_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    prompts = demo_prompts()[:4]
    backend = HFBackend(model, tokenizer, batch_size=2)
    free = backend.generate(prompts, max_new_tokens=12)
    # A stop string taken from inside each free generation: the output must end right before it.
    stops = sorted({text[3:5] for text in free if len(text) >= 5 and text[3:5].strip()})
    assert stops, free
    stopped = backend.generate(prompts, max_new_tokens=12, stop=stops)
    for text, cut in zip(free, stopped):
        assert text.startswith(cut)
        assert not any(s in cut for s in stops)
        assert cut == model_api.cut_at_stop(text, stops)


def test_prefix_reuse_falls_back_when_no_token_is_shared(bpe_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    prompts = [Prompt("", p.text) for p in demo_prompts()[:4]]  # BPE adds no BOS: nothing shared
    whole = HFBackend(model, tokenizer, batch_size=4, prefix_cache=False).score_letters(prompts, LABELS)
    reused = HFBackend(model, tokenizer, batch_size=4, prefix_cache=True).score_letters(prompts, LABELS)
    assert [s.reused_prefix_tokens for s in reused] == [0, 0, 0, 0]
    for a, b in zip(whole, reused):
        assert a.probs == b.probs


def test_loglikelihood_is_batch_invariant_and_matches_a_direct_computation(bpe_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    texts = ["What is a normative perspective?", "The way things should be.", "A. B. C."]
    many = HFBackend(model, tokenizer, batch_size=3).loglikelihood(texts)
    one = HFBackend(model, tokenizer, batch_size=1).loglikelihood(texts)
    assert many == pytest.approx(one, abs=1e-4)
    ids = torch.tensor([tokenizer(texts[0]).input_ids])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(ids).logits[0, :-1], -1)
    assert one[0] == pytest.approx(logprobs.gather(-1, ids[0, 1:, None]).sum().item(), abs=1e-4)


class GenerationOnly:
    """A backend that declares generation only, as an API chat model does."""

    name = "chat-api"
    capabilities = frozenset({GENERATION})


def test_a_generation_only_backend_asked_for_letter_scores_is_refused():
    from crossknow.models.openai_backend import OpenAIChatBackend
    from crossknow.runner import Run, Scoring, Unit, run_units

    with pytest.raises(UnsupportedOperation,
                       match=r"^the chat-api backend cannot give letter scores; it offers: generation$"):
        model_api.require(GenerationOnly(), LETTER_SCORES)
    api = OpenAIChatBackend(ModelSpec.parse("openai/gpt-4"), api_key="sk-test")
    assert api.capabilities == {GENERATION}
    with pytest.raises(UnsupportedOperation, match="the openai backend cannot give letter scores"):
        api.score_letters(demo_prompts()[:1], LABELS)
    with pytest.raises(UnsupportedOperation, match="the openai backend cannot give loglikelihood"):
        api.loglikelihood(["text"])
    # The runner refuses before it writes anything: a logits run never becomes a generation run.
    run = Run("mmlu", None, {}, "demo", result_file=None, records_dir=None)
    unit = Unit("management", [], [])
    with pytest.raises(UnsupportedOperation, match="cannot give letter scores"):
        run_units(GenerationOnly(), run, [unit], Scoring(infer_mode="logits"), summarize=dict)
    assert HFBackend.capabilities == {LETTER_SCORES, LOGLIKELIHOOD, GENERATION}
