"""Mixed-language corpora and fine-tuning: units, seeding, the corpus builder, finetune.py."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

from conftest import ROOT, build_tiny_model, build_tokenizer, load_script
from crossknow.core.model_spec import ModelSpec
from crossknow.data.mixing import assign_languages, parse_corpus
from crossknow.models.translation import AnyPair
from crossknow.training import finetuning as ft
from crossknow.training import settings

WIKI2 = ROOT / "FT" / "data" / "wikitext-2-test-200.txt"  # bundled: the first 200 lines of WikiText-2's test split
LANGS = ["en", "fr", "de", "es", "it"]


def load(name):
    return load_script(f"FT/{name}.py")


def wiki_lines(n=40):
    return WIKI2.read_text(encoding="utf-8").splitlines()[:n]


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
    documents = {p.document for p in parse_corpus(wiki_lines(200), "document")}
    assert len(documents) > 1


def test_language_assignment_is_per_unit_and_order_free():
    lines = wiki_lines(200)
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


class Upper(AnyPair):
    name, model = "fake", "upper"

    def translate_batch(self, texts, src, tgt):
        return ["" if "Boulter" in t and tgt == "de" else f"<{tgt}> {t.upper()}" for t in texts]


def test_corpus_builder_end_to_end_with_a_fake_translator(tmp_path):
    mixer = load("make_mixed_corpus")
    src = tmp_path / "wiki.txt"
    src.write_text("\n".join(wiki_lines(30)) + "\n", encoding="utf-8")
    from crossknow.models import translation

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


def test_a_finished_corpus_is_reused_only_under_the_same_settings(tmp_path, capsys, monkeypatch):
    """The launchers run the builder again for every arm: the same settings reuse the corpus without
    translating; another translator (or seed, unit, ...) is refused, never served the old text."""
    from crossknow.core.errors import CrossknowError

    mixer = load("make_mixed_corpus")
    src = tmp_path / "wiki.txt"
    src.write_text("\n".join(wiki_lines(12)) + "\n", encoding="utf-8")
    args = ["--input_files", str(src), "--unit", "sentence", "--out_dir", str(tmp_path / "out")]
    first = mixer.main(args + ["--languages", "en"])
    assert first["settings"]["translator"] is None
    monkeypatch.setattr(mixer, "make_translator", lambda *a, **k: pytest.fail("a reused corpus loads no translator"))
    assert mixer.main(args + ["--languages", "en"]) == first
    assert "built under these settings: reused" in capsys.readouterr().out
    with pytest.raises(CrossknowError, match=r"out/stats.json: built with other settings \(languages: \['en'\] on disk, \['en', 'fr'\] now\)"):
        mixer.main(args + ["--languages", "en", "fr", "--translator", "apertium"])
    stats = tmp_path / "out" / "stats.json"
    recorded = json.loads(stats.read_text())
    recorded["settings"].update(languages=["en", "fr"], translator="hf", model="org/nllb")
    stats.write_text(json.dumps(recorded))
    with pytest.raises(CrossknowError, match=r"out/stats.json: built with other settings \(translator: 'hf' on disk, 'apertium' now\)"):
        mixer.main(args + ["--languages", "en", "fr", "--translator", "apertium", "--model", "org/nllb"])


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (.ci/run installs it)")
def test_corpus_builder_with_apertium(tmp_path):
    mixer = load("make_mixed_corpus")
    src = tmp_path / "wiki.txt"
    src.write_text("\n".join(wiki_lines(4)) + "\n", encoding="utf-8")
    stats = mixer.main(["--input_files", str(src), "--unit", "words", "--unit_words", "8", "--translator",
                        "apertium", "--languages", "en", "es", "fr", "it", "--out_dir", str(tmp_path / "out"),
                        "--cache", str(tmp_path / "c.sqlite")])
    assert stats["failed"] == 0 and stats["translated"] > 0


FT_CONFIG = ROOT / "FT" / "ft_config.yaml"


def test_flags_override_the_config_file(capsys):
    assert (settings.FIELDS["lora_r"].default, settings.FIELDS["batch_size"].default) == (0, 2)
    config = ft.load_config(FT_CONFIG, ["--lr", "1e-4", "--LoRA.r", "8", "--packing", "false",
                                        "--train_file", "a.txt", "b.txt"])
    assert config["lr"] == 1e-4 and config["LoRA"]["r"] == 8 and config["packing"] is False
    assert config["train_file"] == ["a.txt", "b.txt"]
    assert ft.load_config(FT_CONFIG, ["--train_file", "[a.txt, b.txt]"])["train_file"] == ["a.txt", "b.txt"]
    assert ft.load_config(FT_CONFIG, ["--lora_r", "8", "--train_file", "x"]) == \
        ft.load_config(FT_CONFIG, ["--LoRA.r", "8", "--train_file", "x"])
    with pytest.raises(ft.ConfigError, match="^unknown setting '--learning_rate'; known: --LoRA.r, "):
        ft.load_config(FT_CONFIG, ["--learning_rate", "1"])
    with pytest.raises(ft.ConfigError, match="^train_file: nope.txt: no such file$"):
        ft.read_corpus(["nope.txt"])
    with pytest.raises(SystemExit) as exit_:
        ft.load_config(FT_CONFIG, ["--packing", "often"])
    error = capsys.readouterr().err.splitlines()[-1]
    assert exit_.value.code == 2 and error.startswith("__main__.py: error: argument --packing: Truthy value "
                                                      "expected: got often")


def test_the_shipped_config_is_the_documented_defaults():
    """``FT/finetune.py --help`` shows the dataclass's defaults: FT/ft_config.yaml must hold the same values."""
    shipped = ft.load_config(FT_CONFIG, ["--train_file", "x.txt"])
    assert ft.flatten(shipped) == {**ft.flatten(settings.default_config()), "train_file": ["x.txt"]}


def help_defaults(*args: str) -> dict[str, str]:
    """``FT/finetune.py --help``'s rows: first flag -> the default it shows."""
    done = subprocess.run([sys.executable, str(ROOT / "FT" / "finetune.py"), *args, "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "1000"})
    assert done.returncode == 0, done.stderr
    rows, flag, text = {}, None, ""
    for line in [*done.stdout.splitlines(), "  --end"]:
        if line.startswith("  -"):  # a new option: the last one's text is complete
            shown = re.search(r"\(default: (.*)\)$", text)
            if flag and shown:
                rows[flag] = shown.group(1)
            flag, text = line.split()[0].rstrip(","), line
        elif flag:
            text += " " + line.strip()
    return rows


def test_help_lists_every_setting_with_its_default():
    rows = help_defaults()
    for name, field in settings.FIELDS.items():
        assert rows[f"--{name}"] == str(field.default), name
    assert rows["--lr"] == "2e-05" and rows["--packing"] == "True" and rows["--arch"] == "None"
    assert rows["--config"].endswith("FT/ft_config.yaml")


def test_help_shows_the_values_of_the_config_file_given():
    rows = help_defaults("--config", str(ROOT / "FT/configs/paper_tofu.yaml"))
    assert (rows["--optim"], rows["--warmup_steps"], rows["--precision"]) == ("paged_adamw_32bit", "epoch", "bf16")


def test_packing():
    assert ft.pack([[1, 2, 3], [4, 5], [6]], block_size=3, eos_id=0) == [[1, 2, 3], [0, 4, 5], [0, 6, 0]]


@pytest.fixture(scope="module")
def tiny_training_setup(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ft-setup")
    tokenizer = build_tokenizer("bpe")
    model_dir = tmp_path / "base"
    build_tiny_model(tokenizer).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    text = tmp_path / "train.txt"
    from crossknow.data.mmlu import LocalSource

    rows = [i.question + " " + " ".join(i.choices) for i in LocalSource(ROOT / "MMLU/data/demo").load("management", "test")]
    text.write_text("\n".join(rows * 4) + "\n", encoding="utf-8")
    return model_dir, text


def mean_loss(model_dir, text, block_size=32):
    from crossknow.models.hf_backend import load_model

    model, tokenizer = load_model(ModelSpec.parse(str(model_dir)), dtype="fp32", device="cpu")
    blocks = ft.pack(tokenizer(ft.read_documents([str(text)]), add_special_tokens=False)["input_ids"],
                     block_size, tokenizer.eos_token_id)
    ids = torch.tensor(blocks)
    with torch.no_grad():
        return model(input_ids=ids, labels=ids).loss.item()


def train(model_dir, text, out, *extra):
    return ft.main([
        "--model", str(model_dir), "--train_file", str(text), "--output_dir", str(out), "--block_size", "32",
        "--batch_size", "4", "--gradient_accumulation_steps", "1", "--lr", "3e-3", "--logging_steps", "1",
        "--save_steps", "3", *extra])


@pytest.fixture(scope="module")
def straight_run(tiny_training_setup, tmp_path_factory):
    """An uninterrupted 6-step run (checkpoints at steps 3 and 6): (output folder, summary)."""
    model_dir, text = tiny_training_setup
    out = tmp_path_factory.mktemp("straight") / "ft"
    return out, train(model_dir, text, out, "--max_steps", "6")


def kill_after_step(monkeypatch, step: int):
    """Make training raise once ``step`` optimizer steps (and their checkpoint) are done."""
    from transformers import Trainer

    real_step = Trainer.training_step

    def killed(self, *args, **kwargs):
        if self.state.global_step == step:
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "training_step", killed)
    return lambda: monkeypatch.setattr(Trainer, "training_step", real_step)


def interrupted_run(monkeypatch, model_dir, text, out, *extra):
    revive = kill_after_step(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        train(model_dir, text, out, "--max_steps", "6", *extra)
    revive()


def same_weights(a_dir, b_dir):
    from safetensors.torch import load_file

    a, b = load_file(a_dir / "model.safetensors"), load_file(b_dir / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key


def test_finetuning_lowers_the_loss_saves_and_reloads(tiny_training_setup, straight_run):
    model_dir, text = tiny_training_setup
    out, summary = straight_run
    assert summary["global_step"] == 6 and summary["tokens_per_second"] > 0
    assert mean_loss(out, text) < mean_loss(model_dir, text) - 0.2
    resolved = yaml.safe_load((out / "ft_config.resolved.yaml").read_text())
    assert resolved["lr"] == 3e-3 and resolved["train_file"] == [str(text)]
    assert json.loads((out / "train_summary.json").read_text()) == json.loads(json.dumps(summary))


def test_interrupted_training_resumes_to_the_same_weights(tiny_training_setup, straight_run, tmp_path, monkeypatch):
    model_dir, text = tiny_training_setup
    interrupted_run(monkeypatch, model_dir, text, tmp_path / "resumed")
    summary = train(model_dir, text, tmp_path / "resumed", "--max_steps", "6")
    assert summary["resumed_from"].endswith("checkpoint-3") and summary["global_step"] == 6
    same_weights(straight_run[0], tmp_path / "resumed")
    # 14.5: tokens seen over the whole run equal the uninterrupted run's, and split at the resume
    assert summary["train_tokens"] == straight_run[1]["train_tokens"]
    assert summary["train_tokens_this_run"] == 3 * 4 * 32


# --- 14.5: fine-tuning reliability -------------------------------------------------------------

def test_yaml_keys_are_checked_like_overrides(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: 1.0e-4\nlearning_rate: 1.0e-4\n")
    with pytest.raises(ft.ConfigError, match=f"^{bad}: unknown setting 'learning_rate'; known: LoRA.r, "):
        ft.load_config(bad, ["--train_file", "x.txt"])
    bad.write_text("LoRA:\n  rank: 8\n")
    with pytest.raises(ft.ConfigError, match=f"^{bad}: unknown setting 'LoRA.rank'"):
        ft.load_config(bad, [])
    bad.write_text("packing: sometimes\n")
    with pytest.raises(ft.ConfigError, match=f"^{bad}: packing: takes true or false, got 'sometimes'$"):
        ft.load_config(bad, [])
    good = tmp_path / "good.yaml"
    good.write_text("lr: 1e-4\nLoRA:\n  r: 8\n")  # YAML 1.1 reads 1e-4 as text: taken as the number
    config = ft.load_config(good, ["--train_file", "x.txt"])
    assert config["lr"] == 1e-4 and config["LoRA"] == {**settings.default_config()["LoRA"], "r": 8}
    # the command line prints the one-line error and exits non-zero
    bad.write_text("learning_rate: 1\n")
    done = subprocess.run([sys.executable, str(ROOT / "FT" / "finetune.py"), "--config", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith(f"error: {bad}: unknown setting 'learning_rate'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_resolved_config_is_saved_at_start_and_in_every_checkpoint(tiny_training_setup, straight_run,
                                                                   tmp_path, monkeypatch):
    model_dir, text = tiny_training_setup
    monkeypatch.setattr(ft, "load_model_for_training", lambda config: (_ for _ in ()).throw(MemoryError))
    with pytest.raises(MemoryError):  # the model did not even load: the config is already on disk
        train(model_dir, text, tmp_path / "early", "--max_steps", "6")
    early = yaml.safe_load((tmp_path / "early" / "ft_config.resolved.yaml").read_text())
    assert early["output_dir"] == str(tmp_path / "early") and early["max_steps"] == 6
    out = straight_run[0]
    resolved = (out / "ft_config.resolved.yaml").read_text()
    for step in (3, 6):
        assert (out / f"checkpoint-{step}" / "ft_config.resolved.yaml").read_text() == resolved
        mark = json.loads((out / f"checkpoint-{step}" / ft.CHECKPOINT_MARK).read_text())
        assert mark["config"]["lr"] == 3e-3 and mark["corpus_sha256"] == {str(text): sha256_of(text)}


def sha256_of(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resume_under_a_changed_config_is_refused_unless_restarted(tiny_training_setup, tmp_path, monkeypatch):
    model_dir, text = tiny_training_setup
    out = tmp_path / "run"
    interrupted_run(monkeypatch, model_dir, text, out)
    with pytest.raises(ft.ConfigError, match=r"saved under another configuration \(config.lr: 0.003 on disk, 0.001 now\); "
                                             r".*pass --restart"):
        train(model_dir, text, out, "--max_steps", "6", "--lr", "1e-3")
    edited = tmp_path / "edited.txt"
    edited.write_text(text.read_text().replace("the", "a"))
    with pytest.raises(ft.ConfigError, match=r"saved under another configuration \(config.train_file: .* on disk, .* now\)"):
        train(model_dir, edited, out, "--max_steps", "6")
    logging_only = train(model_dir, text, out, "--max_steps", "6", "--logging_steps", "2")  # not compared
    assert logging_only["resumed_from"].endswith("checkpoint-3")
    restarted = train(model_dir, text, out, "--max_steps", "4", "--lr", "1e-3", "--restart")
    assert restarted["resumed_from"] is None and restarted["global_step"] == 4
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-4"]
    assert json.loads((out / "checkpoint-3" / ft.CHECKPOINT_MARK).read_text())["config"]["lr"] == 1e-3
    # optimizer states of paged AdamW (bitsandbytes) and torch AdamW do not load into each other
    base = {"config": {}, "corpus_sha256": {}}
    with pytest.raises(ft.ConfigError, match=r"^run/ft_run.json: saved under another configuration \(optim_used: "
                                             r"'paged_adamw_32bit' on disk, 'adamw_torch' now\); rerun"):
        ft.refuse_if_changed("run/ft_run.json", {**base, "optim_used": "paged_adamw_32bit"},
                             {**base, "optim_used": "adamw_torch"})


def test_an_incomplete_checkpoint_is_skipped(tiny_training_setup, straight_run, tmp_path, monkeypatch, capsys):
    model_dir, text = tiny_training_setup
    out = tmp_path / "run"
    interrupted_run(monkeypatch, model_dir, text, out)
    half = out / "checkpoint-5"  # killed while saving: weights half written, no trainer state, no mark
    half.mkdir()
    (half / "model.safetensors").write_bytes((out / "checkpoint-3" / "model.safetensors").read_bytes()[:100])
    summary = train(model_dir, text, out, "--max_steps", "6")
    assert summary["resumed_from"].endswith("checkpoint-3")
    assert f"note: skipping {half}: incomplete" in capsys.readouterr().out
    same_weights(straight_run[0], out)


@pytest.mark.parametrize("content, message", [
    (b"", "empty \\(no non-blank line\\)"),
    (b"\n  \n\n", "empty \\(no non-blank line\\)"),
    (b"fine first line\nbad \xff\xfe bytes\n", "line 2: not UTF-8 text \\(byte 20\\)"),
    (b"too short\n", "tokens, fewer than block_size=32"),
])
def test_the_corpus_is_checked_before_the_model_loads(tiny_training_setup, tmp_path, monkeypatch, content, message):
    from transformers import AutoModelForCausalLM

    model_dir, _ = tiny_training_setup
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the corpus was checked")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", no_model)
    with pytest.raises(ft.ConfigError, match=f"^train_file: {corpus}: .*{message}"):
        train(model_dir, corpus, tmp_path / "out", "--max_steps", "2")
    assert not (tmp_path / "out").exists()  # nothing written either


def test_a_missing_model_path_or_unknown_trainer_name_is_refused_before_any_loading(tiny_training_setup, tmp_path):
    _, text = tiny_training_setup
    cases = [("--model", str(tmp_path / "missing"), "no such file or folder$"),
             ("--arch", "./missing", "no such file or folder$"), ("--model", "x.gguf", "no such file or folder$"),
             ("--optim", "adamw_nonsense", "not a transformers name; known: adamw_torch, "),
             ("--lr_scheduler_type", "wiggly", "not a transformers name; known: linear, ")]
    for flag, value, message in cases:
        with pytest.raises(ft.ConfigError, match=f"^{flag[2:]}: {re.escape(value)}: {message}"):
            ft.main(["--model", "org/hub-name", "--train_file", str(text), "--output_dir", str(tmp_path / "o"),
                     flag, value])
    assert not (tmp_path / "o").exists()


def test_tokens_seen_are_the_tokens_trained(straight_run, tiny_training_setup, tmp_path):
    # 6 optimizer steps x 4 packed blocks x 32 tokens, all real (no padding); nothing prefetched or
    # skipped is counted.
    assert straight_run[1]["train_tokens"] == straight_run[1]["train_tokens_this_run"] == 6 * 4 * 32
    # One padded example per document, one whole epoch: every document's tokens (cut at block_size) once.
    model_dir, text = tiny_training_setup
    tokenizer = ft.load_tokenizer_for_training({"model": str(model_dir), "arch": None})
    lengths = [min(len(ids), 32) for ids in tokenizer(ft.read_documents([str(text)]), add_special_tokens=False)["input_ids"]]
    padded = train(model_dir, text, tmp_path / "padded", "--packing", "false", "--save_steps", "100")
    assert padded["examples"] == len(lengths) and padded["train_tokens"] == sum(lengths) < len(lengths) * 32


def test_lora_trains_only_adapters_and_saves_a_merged_model(tiny_training_setup, tmp_path):
    model_dir, text = tiny_training_setup
    train(model_dir, text, tmp_path / "lora", "--max_steps", "4", "--LoRA.r", "4", "--LoRA.alpha", "8")
    assert (tmp_path / "lora" / "adapter" / "adapter_config.json").is_file()
    assert mean_loss(tmp_path / "lora", text) < mean_loss(model_dir, text)


# --- 15.4: the paper's schedule ------------------------------------------------------------------

PAPER = ROOT / "FT" / "configs" / "paper_tofu.yaml"


def test_the_paper_preset_is_tofus_schedule_on_the_papers_hyper_parameters():
    paper = ft.load_config(PAPER, ["--train_file", "x.txt"])
    shipped = ft.load_config(ROOT / "FT" / "ft_config.yaml", ["--train_file", "x.txt"])
    schedule = {"warmup_steps": "epoch", "optim": "paged_adamw_32bit", "precision": "bf16",
                "deepspeed": "FT/configs/ds_zero3_paper.json"}
    assert ft.flatten(paper) == {**ft.flatten(shipped), **schedule}
    ds = json.loads((ROOT / schedule["deepspeed"]).read_text())
    assert ds["zero_optimization"]["stage"] == 3 and ds["bf16"] == {"enabled": True}
    assert "gradient_clipping" not in ds and "optimizer" not in ds  # as TOFU's: the Trainer's optimizer


def test_warmup_over_total_steps_per_epoch():
    config = ft.load_config(PAPER, ["--train_file", "x.txt"])
    # 100 examples, 2 per device, accumulation 8: ceil(ceil(100 / 2) / 8) = 7 steps per epoch
    assert ft.total_optimizer_steps(100, config, world_size=1) == 7
    assert ft.warmup_steps(100, config, world_size=1) == 7  # one epoch: warm-up is the whole run
    three = {**config, "num_epochs": 3}
    assert (ft.total_optimizer_steps(100, three, 1), ft.warmup_steps(100, three, 1)) == (21, 7)
    assert ft.warmup_steps(100, config, world_size=2) == 4  # 25 batches per process -> 4 steps
    assert ft.warmup_steps(100, {**config, "max_steps": 5}, 1) == 5
    assert ft.warmup_steps(100, {**config, "warmup_steps": 0, "warmup_ratio": 0.1}, 1) == 0.1
    with pytest.raises(ft.ConfigError, match="^warmup_steps and warmup_ratio: set one of them, not both$"):
        ft.load_config(PAPER, ["--train_file", "x.txt", "--warmup_ratio", "0.1"])


def test_the_paper_preset_trains_with_a_rising_rate_and_records_its_optimizer(tiny_training_setup, tmp_path,
                                                                             capsys):
    import importlib.util

    model_dir, text = tiny_training_setup
    out = tmp_path / "paper"
    summary = ft.main(["--config", str(PAPER), "--model", str(model_dir), "--train_file", str(text),
                       "--output_dir", str(out), "--deepspeed", "null", "--precision", "fp32", "--block_size", "32",
                       "--batch_size", "4", "--gradient_accumulation_steps", "1", "--lr", "3e-3",
                       "--logging_steps", "1", "--save_steps", "15"])
    assert summary["global_step"] == summary["warmup_steps_used"] == 15  # 59 blocks / 4 per step, 1 epoch
    state = json.loads((out / "checkpoint-15" / "trainer_state.json").read_text())
    rates = [log["learning_rate"] for log in state["log_history"] if "learning_rate" in log]
    assert len(rates) == 15 and all(a < b for a, b in zip(rates, rates[1:])) and rates[-1] < 3e-3
    paged = importlib.util.find_spec("bitsandbytes") is not None and torch.cuda.is_available()
    recorded = json.loads((out / "train_summary.json").read_text())
    if paged:
        assert recorded["optim_used"] == "paged_adamw_32bit" and recorded["optim_note"] is None
    else:
        assert recorded["optim_used"] == "adamw_torch"
        assert recorded["optim_note"].startswith("optim paged_adamw_32bit needs bitsandbytes on a CUDA GPU (")
        assert f"note: {recorded['optim_note']}" in capsys.readouterr().out


def test_the_paper_preset_without_deepspeed_stops_before_the_model_loads(tiny_training_setup, tmp_path,
                                                                        monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "deepspeed"
                        else real_find_spec(name, *a))
    monkeypatch.setattr(ft, "load_tokenizer_for_training", lambda config: pytest.fail("loaded the tokenizer"))
    model_dir, text = tiny_training_setup
    with pytest.raises(ft.ConfigError, match=r"^deepspeed: FT/configs/ds_zero3_paper.json: the deepspeed package "
                                             r"is not installed \(pip install deepspeed\), or pass --deepspeed null"):
        ft.main(["--config", str(PAPER), "--model", str(model_dir), "--train_file", str(text),
                 "--output_dir", str(tmp_path / "out")])


# --- 15.2 + 13.6: the launchers, run with python and accelerate stubbed on PATH ---------------------

ARMS = ["en", "mixed-lang-document", "mixed-lang-sentence", "mixed-lang-sentence8words"]
UNIT_ARGS = {"en": "--unit document --languages en",
             "mixed-lang-document": "--unit document --unit_words 8 --translator hf",
             "mixed-lang-sentence": "--unit sentence --unit_words 8 --translator hf",
             "mixed-lang-sentence8words": "--unit words --unit_words 8 --translator hf"}


def run_launcher(tmp_path, launcher, *args, **env):
    """Run a launcher with ``python``/``python3``/``accelerate`` replaced by loggers: the commands it runs."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir(exist_ok=True)
    log.write_text("")
    for name in ("python", "python3", "accelerate"):
        stub = bin_dir / name
        # python3 -c (the launchers' free-port helper) runs for real; everything else is logged
        stub.write_text(f'#!/usr/bin/env bash\nif [ "${{1:-}}" = -c ]; then exec {sys.executable} "$@"; fi\n'
                        f'echo "{name} $*" >> {log}\n')
        stub.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if k not in ("MODEL", "ARMS", "FT_CONFIG", "ACCELERATE_CONFIG")}
    done = subprocess.run(["bash", str(ROOT / launcher), *args], capture_output=True, text=True,
                          env={**clean, "PATH": f"{bin_dir}:{os.environ['PATH']}", **env})
    assert done.returncode == 0, done.stderr
    return [re.sub(r"--main_process_port \d+", "--main_process_port PORT", line) for line in log.read_text().splitlines()]


def expected_arm(model, corpus, arm, *overrides):
    dataset = {"wiki2": "wikitext-2-raw-v1", "wiki103": "wikitext-103-raw-v1"}[corpus]
    name = model.split("/")[-1].lower()
    ckpt = f"checkpoints/{name}-{corpus}-{arm}"
    extra = "" if arm == "en" else " --model facebook/nllb-200-distilled-600M"
    return [
        f"python FT/make_mixed_corpus.py --dataset_config {dataset} {UNIT_ARGS[arm]}{extra} --out_dir data/{corpus}-{arm}",
        f"accelerate launch --config_file FT/configs/ddp.yaml --main_process_port PORT FT/finetune.py "
        f"--config FT/configs/paper_tofu.yaml --model {model} --train_file data/{corpus}-{arm}/mixed.txt "
        f"--output_dir {ckpt}" + "".join(f" {o}" for o in overrides),
        f"python MMLU/eval.py --model {ckpt} --arch {model} --ntrain 0 --configs all --dtype auto "
        f"--data_dir MMLU/data/full --save_dir results/mmlu",
        f"python MMLU/eval.py --model {ckpt} --arch {model} --ntrain 5 --configs all --demos same en --dtype auto "
        f"--data_dir MMLU/data/full --save_dir results/mmlu",
        f"python HP/evaluate.py --model_name {ckpt} --arch {model} --langs all "
        f"--data cross-ling-know/HarryPotter-Quiz --save_dir results/hp",
    ]


@pytest.mark.parametrize("launcher, model, corpus, arms", [
    ("FT/scripts/wiki2_llama2-7b.sh", "meta-llama/Llama-2-7b-hf", "wiki2", ARMS),
    ("FT/scripts/wiki2_llama3-8b.sh", "meta-llama/Meta-Llama-3-8B", "wiki2", ARMS),
    ("FT/scripts/wiki103_llama3-8b.sh", "meta-llama/Meta-Llama-3-8B", "wiki103", [a for a in ARMS if "document" not in a]),
    ("FT/scripts/wiki103_llama2-7b.sh", "meta-llama/Llama-2-7b-hf", "wiki103", [a for a in ARMS if "document" not in a]),
])
def test_ft_launchers_cover_every_released_checkpoint(tmp_path, launcher, model, corpus, arms):
    calls = run_launcher(tmp_path, launcher, "--seed", "7")
    assert calls == [c for arm in arms for c in expected_arm(model, corpus, arm, "--seed", "7")]
    other = run_launcher(tmp_path, launcher, MODEL="org/Other-1B", ARMS="mixed-lang-document")
    assert other == expected_arm("org/Other-1B", corpus, "mixed-lang-document")


def test_ft_launchers_translate_with_googletrans_on_one_setting(tmp_path):
    """TRANSLATOR=google: the paper's Google Translate (googletrans), with no NLLB model passed."""
    calls = run_launcher(tmp_path, "FT/scripts/wiki103_llama2-7b.sh", TRANSLATOR="google",
                         ARMS="en mixed-lang-sentence8words")
    assert calls[0] == "python FT/make_mixed_corpus.py --dataset_config wikitext-103-raw-v1 --unit document " \
                       "--languages en --out_dir data/wiki103-en"
    assert calls[5] == "python FT/make_mixed_corpus.py --dataset_config wikitext-103-raw-v1 --unit words " \
                       "--unit_words 8 --translator google --out_dir data/wiki103-mixed-lang-sentence8words"


def test_in_domain_launcher(tmp_path):
    calls = run_launcher(tmp_path, "HP/scripts/in_domain.sh", MODEL="org/Base")
    finetune = ("accelerate launch --config_file FT/configs/ddp.yaml --main_process_port PORT FT/finetune.py "
                "--config FT/configs/paper_tofu.yaml --model org/Base")
    quiz = "python HP/evaluate.py --model_name checkpoints/hp-{} --arch org/Base --langs all " \
           "--data cross-ling-know/HarryPotter-Quiz --save_dir results/hp"
    assert calls == [
        "python HP/extract_wiki103_hp.py --out_dir data/wiki103-hp",
        "python FT/make_mixed_corpus.py --input_files data/wiki103-hp/hp_related.txt --unit sentence --translator hf "
        "--model facebook/nllb-200-distilled-600M --out_dir data/wiki103-hp-mixed",
        f"{finetune} --train_file data/wiki103-hp/hp_related.txt --output_dir checkpoints/hp-en",
        quiz.format("en"),
        f"{finetune} --train_file data/wiki103-hp-mixed/mixed.txt --output_dir checkpoints/hp-mixed",
        quiz.format("mixed"),
    ]
    default = run_launcher(tmp_path, "HP/scripts/in_domain.sh")
    assert default[2] == calls[2].replace("--model org/Base", "--model meta-llama/Llama-2-7b-hf")


def test_the_readme_example_uses_bundled_text_with_its_source():
    readme = (ROOT / "FT" / "README.md").read_text(encoding="utf-8")
    used = set(re.findall(r"--train_file (FT/data/\S+)", readme))
    assert used == {"FT/data/wikitext-2-test-200.txt"}
    bundled = ROOT / "FT" / "data" / "wikitext-2-test-200.txt"
    source = (ROOT / "FT" / "data" / "SOURCE.md").read_text(encoding="utf-8")
    assert f"`{sha256_of(bundled)}`" in source and "CC BY-SA 3.0" in source
    lines = bundled.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 201 and lines[-1] == "" and lines[0] == " = Robert Boulter = "
