"""Mixed-language corpora and fine-tuning: units, seeding, the corpus builder, finetune.py."""

import json
import shutil

import pytest
import torch
import yaml

from conftest import ROOT, SHARED_DATA, build_tiny_model, build_tokenizer, load_script
from crossknow.mixing import assign_languages, parse_corpus

WIKI2 = SHARED_DATA / "wikitext-2-raw" / "wiki.test.raw"
needs_wiki2 = pytest.mark.skipif(not WIKI2.is_file(), reason="../shared/data/wikitext-2-raw not present")
LANGS = ["en", "fr", "de", "es", "it"]


def load(name):
    return load_script(f"FT/{name}.py")


def wiki_lines(n=40):
    return WIKI2.read_text(encoding="utf-8").splitlines()[:n]


@needs_wiki2
def test_units_on_real_wikitext_keep_headings_and_text():
    lines = wiki_lines()
    for unit in ("document", "sentence", "words"):
        parsed = parse_corpus(lines, unit, unit_words=8)
        assert [p.text for p in parsed if p.heading] == [line.rstrip("\r") for line in lines
                                                         if line.strip().startswith("=")]
        for p in parsed:
            if not p.heading:
                assert " ".join(p.units).split() == p.text.split()  # units rejoin to the paragraph
    sentences = [u for p in parse_corpus(lines, "sentence") for u in p.units]
    assert sentences[0] == "Robert Boulter is an English film , television and theatre actor ."
    chunks = [u for p in parse_corpus(lines, "words", 8) for u in p.units]
    assert max(len(c.split()) for c in chunks) == 8
    assert "actor . He" not in " | ".join(chunks)  # word units never cross a sentence end
    documents = {p.document for p in parse_corpus(wiki_lines(400), "document")}
    assert len(documents) > 1


@needs_wiki2
def test_language_assignment_is_per_unit_and_order_free():
    lines = wiki_lines(400)
    for unit in ("sentence", "words", "document"):
        parsed = parse_corpus(lines, unit)
        langs = assign_languages(parsed, unit, LANGS, seed=3)
        assert assign_languages(parse_corpus(lines, unit), unit, LANGS, seed=3) == langs
        # Adding other units (another article before this one) changes nothing for these units.
        extra = [" = Another article = ", " Something else entirely . And more text here . "]
        shifted = assign_languages(parse_corpus(extra + lines, unit), unit, LANGS, seed=3)[len(extra):]
        assert shifted == langs
        flat = [lang for row in langs for lang in row]
        assert len(set(flat)) >= (2 if unit == "document" else 5)
        assert assign_languages(parsed, unit, LANGS, seed=4) != langs
        if unit == "document":  # one language per document
            per_doc = {}
            for line, row in zip(parsed, langs):
                for lang in row:
                    per_doc.setdefault(line.document, set()).add(lang)
            assert all(len(v) == 1 for v in per_doc.values())


class Upper:
    name, model = "fake", "upper"

    def translate_batch(self, texts, src, tgt):
        return ["" if "Boulter" in t and tgt == "de" else f"<{tgt}> {t.upper()}" for t in texts]


@needs_wiki2
def test_corpus_builder_end_to_end_with_a_fake_translator(tmp_path):
    mixer = load("make_mixed_corpus")
    src = tmp_path / "wiki.txt"
    src.write_text("\n".join(wiki_lines(30)) + "\n", encoding="utf-8")
    from crossknow import translation

    original = translation.make_translator
    translation.make_translator = lambda kind, model=None: Upper()
    mixer.make_translator = translation.make_translator
    try:
        stats = mixer.main(["--input_files", str(src), "--unit", "sentence", "--out_dir", str(tmp_path / "out"),
                            "--cache", str(tmp_path / "c.sqlite"), "--seed", "1"])
    finally:
        mixer.make_translator = translation.make_translator = original
    mixed = (tmp_path / "out" / "mixed.txt").read_text(encoding="utf-8").splitlines()
    assert len(mixed) == 30 and mixed[0] == wiki_lines(1)[0].rstrip("\r")
    units = [json.loads(line) for line in (tmp_path / "out" / "units.jsonl").read_text().splitlines()]
    assert stats["units"] == len(units) == sum(stats["units_per_language"].values())
    for u in units:
        if u["status"] == "translated":
            assert u["text"] == f"<{u['language']}> {u['source'].upper()}"
        elif u["status"] == "failed":
            assert u["language"] == "de" and "Boulter" in u["source"] and u["text"] == u["source"]
        else:
            assert u["language"] == "en" and u["text"] == u["source"]
    assert stats["failed"] == sum(u["status"] == "failed" for u in units) > 0
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["failed"] == stats["failed"]


@needs_wiki2
@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (.ci/run installs it)")
def test_corpus_builder_with_apertium(tmp_path):
    mixer = load("make_mixed_corpus")
    src = tmp_path / "wiki.txt"
    src.write_text("\n".join(wiki_lines(4)) + "\n", encoding="utf-8")
    stats = mixer.main(["--input_files", str(src), "--unit", "words", "--unit_words", "8", "--translator",
                        "apertium", "--languages", "en", "es", "fr", "it", "--out_dir", str(tmp_path / "out"),
                        "--cache", str(tmp_path / "c.sqlite")])
    assert stats["failed"] == 0 and stats["translated"] > 0


def test_config_merge_and_errors(tmp_path):
    ft = load("finetune")
    config = yaml.safe_load((ROOT / "FT" / "ft_config.yaml").read_text())
    assert (config["LoRA"]["r"], config["batch_size"], config["gradient_accumulation_steps"], config["num_epochs"],
            config["lr"], config["weight_decay"], config["seed"]) == (0, 2, 8, 1, 2e-5, 0.01, 42)
    merged = ft.merge_overrides(config, ["--lr", "1e-4", "--LoRA.r", "8", "--packing", "false",
                                         "--train_file", "[a.txt, b.txt]"])
    assert merged["lr"] == 1e-4 and merged["LoRA"]["r"] == 8 and merged["packing"] is False
    assert merged["train_file"] == ["a.txt", "b.txt"] and config["lr"] == 2e-5  # the original is untouched
    with pytest.raises(ft.ConfigError, match="unknown setting '--learning_rate'"):
        ft.merge_overrides(config, ["--learning_rate", "1"])
    with pytest.raises(ft.ConfigError, match="train_file not found: nope.txt"):
        ft.load_config(ROOT / "FT" / "ft_config.yaml", ["--train_file", "nope.txt"])


def test_packing():
    ft = load("finetune")
    assert ft.pack([[1, 2, 3], [4, 5], [6]], block_size=3, eos_id=0) == [[1, 2, 3], [0, 4, 5], [0, 6, 0]]


@pytest.fixture
def tiny_training_setup(tmp_path):
    tokenizer = build_tokenizer("bpe")
    model_dir = tmp_path / "base"
    build_tiny_model(tokenizer).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    text = tmp_path / "train.txt"
    from crossknow.mmlu import LocalSource

    rows = [i.question + " " + " ".join(i.choices) for i in LocalSource(ROOT / "MMLU/data/demo").load("management", "test")]
    text.write_text("\n".join(rows * 4) + "\n", encoding="utf-8")
    return model_dir, text


def mean_loss(model_dir, text, block_size=32):
    from crossknow.hf_backend import load_model

    ft = load("finetune")
    model, tokenizer = load_model(str(model_dir), dtype="fp32", device="cpu")
    blocks = ft.pack(tokenizer(ft.read_documents([str(text)]), add_special_tokens=False)["input_ids"],
                     block_size, tokenizer.eos_token_id)
    ids = torch.tensor(blocks)
    with torch.no_grad():
        return model(input_ids=ids, labels=ids).loss.item()


def train(model_dir, text, out, *extra):
    return load("finetune").main([
        "--model", str(model_dir), "--train_file", str(text), "--output_dir", str(out), "--block_size", "32",
        "--batch_size", "4", "--gradient_accumulation_steps", "1", "--lr", "3e-3", "--logging_steps", "1",
        "--save_steps", "3", *extra])


def test_finetuning_lowers_the_loss_saves_and_reloads(tiny_training_setup, tmp_path):
    model_dir, text = tiny_training_setup
    summary = train(model_dir, text, tmp_path / "ft", "--max_steps", "6")
    assert summary["global_step"] == 6 and summary["tokens_per_second"] > 0
    assert mean_loss(tmp_path / "ft", text) < mean_loss(model_dir, text) - 0.2
    resolved = yaml.safe_load((tmp_path / "ft" / "ft_config.resolved.yaml").read_text())
    assert resolved["lr"] == 3e-3 and resolved["train_file"] == [str(text)]


def test_interrupted_training_resumes_to_the_same_weights(tiny_training_setup, tmp_path, monkeypatch):
    from safetensors.torch import load_file
    from transformers import Trainer

    model_dir, text = tiny_training_setup
    train(model_dir, text, tmp_path / "straight", "--max_steps", "6")
    real_step = Trainer.training_step

    def killed_after_step_3(self, *args, **kwargs):
        if self.state.global_step == 3:
            raise KeyboardInterrupt  # the checkpoint of step 3 is on disk
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "training_step", killed_after_step_3)
    with pytest.raises(KeyboardInterrupt):
        train(model_dir, text, tmp_path / "resumed", "--max_steps", "6")
    monkeypatch.setattr(Trainer, "training_step", real_step)
    summary = train(model_dir, text, tmp_path / "resumed", "--max_steps", "6")
    assert summary["resumed_from"].endswith("checkpoint-3") and summary["global_step"] == 6
    a = load_file(tmp_path / "straight" / "model.safetensors")
    b = load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key


def test_lora_trains_only_adapters_and_saves_a_merged_model(tiny_training_setup, tmp_path):
    model_dir, text = tiny_training_setup
    train(model_dir, text, tmp_path / "lora", "--max_steps", "4", "--LoRA.r", "4", "--LoRA.alpha", "8")
    assert (tmp_path / "lora" / "adapter" / "adapter_config.json").is_file()
    assert mean_loss(tmp_path / "lora", text) < mean_loss(model_dir, text)
