"""The translator interface, its cache, its backends' requests, and MMLU/translate.py."""

import json
import shutil
import sys

import pytest
import torch

from conftest import DEMO_DATA, load_script
from crossknow.core.model_spec import ModelSpec
from crossknow.data.mmlu import DataError, LocalSource, read_mmlu_csv
from crossknow.models.translation import (
    AnyPair,
    ApertiumTranslator,
    CausalLMTranslator,
    HFSeq2SeqTranslator,
    OpenAIChatTranslator,
    TranslationCache,
    first_line,
    translate,
)

HAS_APERTIUM = shutil.which("apertium") is not None


class FakeTranslator(AnyPair):
    """Upper-cases text; fails on texts containing 'FAIL'; can die after some batches."""

    name, model = "fake", "upper"

    def __init__(self, die_after: int | None = None):
        self.batches, self.die_after = [], die_after

    def translate_batch(self, texts, src, tgt):
        if self.die_after is not None and len(self.batches) >= self.die_after:
            raise KeyboardInterrupt
        self.batches.append(list(texts))
        if any("FAIL" in t for t in texts):
            raise ConnectionError("backend down")
        return [f"[{tgt}] {t.upper()}" if "EMPTY" not in t else "" for t in texts]


def test_cache_makes_a_second_run_call_nothing(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    texts = ["one", "two", "one", "three"]
    first = translate(FakeTranslator(), texts, "en", "fr", cache, batch_size=2)
    assert [t.text for t in first] == ["[fr] ONE", "[fr] TWO", "[fr] ONE", "[fr] THREE"]
    again = FakeTranslator()
    assert translate(again, texts, "en", "fr", TranslationCache(tmp_path / "c.sqlite")) == first
    assert again.batches == []
    other = FakeTranslator()
    translate(other, texts, "en", "de", cache)  # another language is another key
    assert other.batches == [["one", "two", "three"]]


class BeamTranslator(FakeTranslator):
    """A translator whose output depends on its generation settings, as HF MT and LLMs' does."""

    def __init__(self, num_beams: int, max_new_tokens: int = 256):
        super().__init__()
        self.num_beams, self.max_new_tokens = num_beams, max_new_tokens

    def translate_batch(self, texts, src, tgt):
        return [f"{t} /{self.num_beams}" for t in super().translate_batch(texts, src, tgt)]


def test_the_cache_never_serves_translations_made_with_other_generation_settings(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    four = translate(BeamTranslator(4), ["one"], "en", "fr", cache)
    assert [t.text for t in four] == ["[fr] ONE /4"]
    one = BeamTranslator(1)
    assert [t.text for t in translate(one, ["one"], "en", "fr", cache)] == ["[fr] ONE /1"] and one.batches
    shorter = BeamTranslator(4, max_new_tokens=64)
    translate(shorter, ["one"], "en", "fr", cache)
    assert shorter.batches == [["one"]]
    again = BeamTranslator(4)
    assert translate(again, ["one"], "en", "fr", cache) == four and again.batches == []


def test_killed_run_resumes_and_ends_identical(tmp_path):
    texts = [f"text {i}" for i in range(7)]
    reference = translate(FakeTranslator(), texts, "en", "es", None, batch_size=2)
    cache = TranslationCache(tmp_path / "c.sqlite")
    with pytest.raises(KeyboardInterrupt):
        translate(FakeTranslator(die_after=2), texts, "en", "es", cache, batch_size=2)
    resumed = FakeTranslator()
    assert translate(resumed, texts, "en", "es", cache, batch_size=2) == reference
    assert resumed.batches == [["text 4", "text 5"], ["text 6"]]


def test_failures_are_flagged_never_replaced_by_the_source(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    translator = FakeTranslator()
    results = translate(translator, ["ok", "EMPTY out", "FAIL here"], "en", "it", cache, batch_size=1,
                        max_retries=2, retry_wait=0)
    assert results[0].ok and results[0].text == "[it] OK"
    assert not results[1].ok and results[1].text is None and results[1].error == "empty output"
    assert not results[2].ok and results[2].text is None and "ConnectionError: backend down" in results[2].error
    assert translator.batches.count(["FAIL here"]) == 3  # bounded retries
    retry = FakeTranslator()
    translate(retry, ["ok", "EMPTY out", "FAIL here"], "en", "it", cache, retry_wait=0, max_retries=0)
    # only the failures are tried again; the failed batch is split so that the bad string fails alone
    assert retry.batches == [["EMPTY out", "FAIL here"], ["EMPTY out"], ["FAIL here"]]


def sentencepiece_model(tmp_path):
    import sentencepiece as spm

    corpus = tmp_path / "corpus.txt"
    rows = [i.question for i in LocalSource(DEMO_DATA).load("management", "test")]
    corpus.write_text("\n".join(rows * 20))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "sp"), vocab_size=150,
                                   character_coverage=1.0, model_type="bpe", minloglevel=2)
    return tmp_path / "sp.model"


def tiny_m2m100(vocab_size: int):
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    torch.manual_seed(0)
    config = M2M100Config(vocab_size=vocab_size, d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=1, bos_token_id=0,
                          eos_token_id=2, decoder_start_token_id=2)
    return M2M100ForConditionalGeneration(config).eval()


def test_m2m100_language_codes(tmp_path):
    import sentencepiece as spm
    from transformers import M2M100Tokenizer

    sp_model = sentencepiece_model(tmp_path)
    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    (tmp_path / "vocab.json").write_text(json.dumps({sp.id_to_piece(i): i for i in range(sp.get_piece_size())}))
    tokenizer = M2M100Tokenizer(vocab_file=str(tmp_path / "vocab.json"), spm_file=str(sp_model))
    model = tiny_m2m100(vocab_size=300)
    translator = HFSeq2SeqTranslator(ModelSpec.parse("tiny-m2m100"), device="cpu", num_beams=1, max_new_tokens=5,
                                     model_obj=model, tokenizer=tokenizer)
    assert translator.family == "m2m100"
    inputs, forced_bos = translator.generation_inputs(["What is a normative perspective?"], "en", "de")
    assert tokenizer.convert_ids_to_tokens(int(inputs.input_ids[0, 0])) == "__en__"
    assert forced_bos == tokenizer.get_lang_id("de")
    out = model.generate(**inputs, forced_bos_token_id=forced_bos, max_new_tokens=4, num_beams=1)
    assert int(out[0, 1]) == tokenizer.get_lang_id("de")  # decoder starts with the target code
    assert len(translator.translate_batch(["a", "b c"], "fr", "it")) == 2
    assert tokenizer.src_lang == "fr"


def test_nllb_language_codes(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import NllbTokenizer

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace()
    bpe.train_from_iterator([i.question for i in LocalSource(DEMO_DATA).load("management", "test")],
                            trainers.BpeTrainer(vocab_size=200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"]))
    data = json.loads(bpe.to_str())["model"]
    tokenizer = NllbTokenizer(vocab=data["vocab"], merges=[tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                                                           for m in data["merges"]])
    model = tiny_m2m100(vocab_size=len(tokenizer) + 8)
    translator = HFSeq2SeqTranslator(ModelSpec.parse("tiny-nllb"), device="cpu", num_beams=1, max_new_tokens=5,
                                     model_obj=model, tokenizer=tokenizer)
    assert translator.family == "nllb"
    inputs, forced_bos = translator.generation_inputs(["What is a normative perspective?"], "en", "fr")
    tokens = tokenizer.convert_ids_to_tokens(inputs.input_ids[0].tolist())
    assert tokens[0] == "eng_Latn" and tokens[-1] == "</s>"
    assert forced_bos == tokenizer.convert_tokens_to_ids("fra_Latn")
    assert len(translator.translate_batch(["x"], "de", "es")) == 1
    assert tokenizer.convert_ids_to_tokens(tokenizer("x").input_ids)[0] == "deu_Latn"


class RecordingBackend:
    def __init__(self, reply):
        self.reply, self.prompts = reply, []

    def generate(self, prompts, max_new_tokens, desc="", first_line_only=False, num_beams=1):
        self.prompts += prompts
        self.first_line_only, self.num_beams = first_line_only, num_beams
        return [self.reply] * len(prompts)


def test_causal_llm_prompt_and_first_line():
    backend = RecordingBackend(" Bonjour le monde.\nEnglish: Next sentence")
    translator = CausalLMTranslator(ModelSpec.parse("fake"), backend=backend)
    assert translator.translate_batch(["Hello world."], "en", "fr") == ["Bonjour le monde."]
    assert backend.prompts[0].text == "Translate this from English to French:\nEnglish: Hello world.\nFrench:"
    assert backend.first_line_only
    assert first_line("\n\n  Hola \nmore") == "Hola"


def test_openai_translator_sends_the_system_message():
    from test_openai_backend import FakeChatServer

    with FakeChatServer([(200, "Bonjour")]) as server:
        translator = OpenAIChatTranslator(ModelSpec.parse("openai/gpt-4"), base_url=server.url, api_key="k")
        assert translator.translate_batch(["Hello"], "en", "fr") == ["Bonjour"]
    assert server.requests[0]["body"]["messages"] == [
        {"role": "system", "content": "Translate the following English text to French:"},
        {"role": "user", "content": "Hello"}]


@pytest.mark.skipif(not HAS_APERTIUM, reason="apertium is not installed (.ci/run installs it)")
def test_apertium_end_to_end(tmp_path):
    translator = ApertiumTranslator()
    texts = ["What is the capital of France?", "Line one\nline two", "Offerings", "Prayers", "Idols"]
    results = translate(translator, texts, "en", "es")
    assert all(r.ok for r in results)
    assert "Francia" in results[0].text and results[1].text.count("\n") == 1
    assert [r.text for r in results[2:]] == ["Ofrendas", "Oraciones", "Ídolos"]  # one output per input, in order
    assert "France" in translate(translator, ["What is the capital of France?"], "en", "fr")[0].text
    with pytest.raises(ValueError, match="cannot translate en->de"):
        translate(translator, ["x"], "en", "de")


mmlu_translate = load_script("MMLU/translate.py")


@pytest.fixture
def fake_translator(monkeypatch):
    made = []

    def make(kind, model=None):
        made.append(FakeTranslator())
        return made[-1]

    monkeypatch.setattr(mmlu_translate, "make_translator", make)
    return made


def run_translate(tmp_path, *extra):
    mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                         "--subjects", "management", "world_religions", "--limit", "3",
                         "--cache", str(tmp_path / "cache.sqlite"), *extra])


def test_full_mode_writes_translations_and_a_manifest_then_reuses_the_cache(tmp_path, fake_translator):
    run_translate(tmp_path, "--languages", "fr", "de", "--mode", "full")
    out = tmp_path / "out"
    rows = read_mmlu_csv(out / "test_full_de" / "management_test.csv")
    english = read_mmlu_csv(DEMO_DATA / "test" / "management_test.csv")[:3]
    assert rows[0].question == "[de] " + english[0].question.upper()
    assert [r.answer for r in rows] == [e.answer for e in english]
    assert read_mmlu_csv(out / "test" / "management_test.csv") == english
    manifest = json.loads((out / "test_full_de" / "manifest.json").read_text())
    assert manifest["source"] == "fake:upper" and manifest["strings"] == 30 and manifest["failed"] == 0
    run_translate(tmp_path, "--languages", "fr", "de", "--mode", "full")
    assert fake_translator[-1].batches == []
    run_translate(tmp_path, "--languages", "fr", "--mode", "gt_question")
    gq = read_mmlu_csv(out / "test_gt_question_fr" / "world_religions_test.csv")
    fr = read_mmlu_csv(out / "test_full_fr" / "world_religions_test.csv")
    assert gq[0].question == fr[0].question and gq[0].choices[gq[0].answer] == fr[0].choices[fr[0].answer]


def test_failures_stop_by_default_and_the_other_policies(tmp_path, fake_translator, monkeypatch):
    real = FakeTranslator.translate_batch

    def fails_on_one_option(self, texts, src, tgt):
        if "Satisficing" in texts:
            raise ConnectionError("backend down")
        return real(self, texts, src, tgt)

    monkeypatch.setattr(FakeTranslator, "translate_batch", fails_on_one_option)
    monkeypatch.setattr(mmlu_translate, "translate", lambda *a, **k: translate(*a, **{**k, "batch_size": 1,
                                                                                   "retry_wait": 0}))
    with pytest.raises(mmlu_translate.TranslationFailed, match=r"(?s)1 string\(s\) failed .* management row 1: 'Satisficing'"):
        run_translate(tmp_path, "--languages", "es", "--mode", "full")
    out = tmp_path / "out"
    assert not (out / "test_full_es" / "management_test.csv").exists()
    assert (out / "test_full_es" / "world_religions_test.csv").exists()

    run_translate(tmp_path, "--languages", "es", "--mode", "full", "--on_failure", "keep_english")
    rows = read_mmlu_csv(out / "test_full_es" / "management_test.csv")
    assert rows[0].choices[1] == "Satisficing" and rows[0].choices[0].startswith("[es] ")
    assert json.loads((out / "test_full_es" / "manifest.json").read_text())["kept_english"] == 1

    run_translate(tmp_path, "--languages", "es", "--mode", "full", "--on_failure", "skip", "--overwrite")
    assert len(read_mmlu_csv(out / "test_full_es" / "management_test.csv")) == 2
    manifest = json.loads((out / "test_full_es" / "manifest.json").read_text())
    assert manifest["skipped"] == {"management": [0]} and manifest["skipped_rows"] == 1
    run_translate(tmp_path, "--languages", "es", "--mode", "gt")  # the skipped row is left out
    gt = read_mmlu_csv(out / "test_gt_es" / "management_test.csv")
    english = read_mmlu_csv(DEMO_DATA / "test" / "management_test.csv")[1:3]
    assert [g.question for g in gt] == [e.question for e in english]


def write_mmmlu(path, source, subjects, break_row=None):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["", "Question", "A", "B", "C", "D", "Answer", "Subject"])
        n = 0
        for subject in subjects:
            for i, item in enumerate(source.load(subject, "test", "full_fr")):
                answer = "ABCD"[(item.answer + (i == break_row)) % 4]
                w.writerow([n, item.question, *item.choices, answer, subject])
                n += 1


def test_mmmlu_import_and_export(tmp_path):
    source = LocalSource(DEMO_DATA)
    mmmlu = tmp_path / "mmlu_FR-FR.csv"
    write_mmmlu(mmmlu, source, ["management", "world_religions"])
    mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                         "--subjects", "management", "world_religions", "--languages", "fr",
                         "--import_mmmlu", str(mmmlu)])
    imported = LocalSource(tmp_path / "out")
    assert imported.load("management", "test", "full_fr") == source.load("management", "test", "full_fr")
    assert json.loads((tmp_path / "out" / "test_full_fr" / "manifest.json").read_text())["source"] == \
        "import:mmmlu:mmlu_FR-FR.csv"
    mmlu_translate.main(["--data_dir", str(tmp_path / "out"), "--split", "test", "--export", "full_fr",
                         "--export_dir", str(tmp_path / "hf")])
    assert read_mmlu_csv(tmp_path / "hf" / "data" / "test" / "management_test.csv") == \
        source.load("management", "test", "full_fr")
    write_mmmlu(mmmlu, source, ["management"], break_row=3)
    with pytest.raises(DataError, match=r"\(management\): the answer differs from English on row\(s\) \[4\]"):
        mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "o2"), "--split", "test",
                             "--subjects", "management", "--languages", "fr", "--import_mmmlu", str(mmmlu)])


@pytest.mark.skipif(not HAS_APERTIUM, reason="apertium is not installed (.ci/run installs it)")
def test_translate_script_with_apertium(tmp_path):
    run_translate(tmp_path, "--languages", "es", "it", "--mode", "full", "--translator", "apertium")
    rows = read_mmlu_csv(tmp_path / "out" / "test_full_it" / "management_test.csv")
    assert len(rows) == 3 and all(r.question for r in rows)


def test_first_line_stopping_ignores_a_leading_blank_line(bpe_model_dir):
    from crossknow.models.hf_backend import FirstLineDone, load_tokenizer

    tokenizer = load_tokenizer(ModelSpec.parse(str(bpe_model_dir)))
    prompt = tokenizer("French:").input_ids

    def done(*texts):
        rows = [prompt + tokenizer(t, add_special_tokens=False).input_ids for t in texts]
        width = max(map(len, rows))
        ids = torch.tensor([r + [tokenizer.eos_token_id] * (width - len(r)) for r in rows])
        return FirstLineDone(tokenizer, len(prompt))(ids, None).tolist()

    assert done("\n", " Bonjour", " Bonjour\n", "\n Bonjour\nmore") == [False, False, True, True]


def test_google_translator_request(monkeypatch):
    import types

    calls = []

    class FakeGoogle:
        def translate(self, texts, src, dest):
            calls.append((list(texts), src, dest))
            return [types.SimpleNamespace(text=t.upper()) for t in texts]

    monkeypatch.setitem(sys.modules, "googletrans", types.SimpleNamespace(Translator=FakeGoogle))
    from crossknow.models.translation import GoogleTranslator

    assert translate(GoogleTranslator(), ["hello", "world"], "en", "de") == [
        translate.__globals__["Translation"]("HELLO", True), translate.__globals__["Translation"]("WORLD", True)]
    assert calls == [(["hello", "world"], "en", "de")]


def test_marian_multi_target_prefix():
    class Batch:
        def to(self, device):
            return self

    class Tok:
        def get_vocab(self):
            return {">>fr<<": 5, ">>it<<": 6}

        def __call__(self, texts, **kwargs):
            self.seen = texts
            return Batch()

    translator = HFSeq2SeqTranslator.__new__(HFSeq2SeqTranslator)
    translator.family, translator.tokenizer, translator.device = "marian", Tok(), "cpu"
    _, forced_bos = translator.generation_inputs(["Hello"], "en", "fr")
    assert translator.tokenizer.seen == [">>fr<< Hello"] and forced_bos is None
    translator.tokenizer.get_vocab = dict  # a single-target model (opus-mt-en-de) takes no prefix
    translator.generation_inputs(["Hello"], "en", "de")
    assert translator.tokenizer.seen == ["Hello"]
