"""The per-example preset (FT/configs/paper_tofu_per_example.yaml): TOFU's loader on a tiny local
tokenizer that adds BOS, as Llama's and Gemma's do: each line one example, BOS first, cut at
max_length, one EOS after an example that was not cut, never packed; and the share truncation drops."""

import json

import pytest
import yaml

from conftest import ROOT, build_tiny_model, build_tokenizer
from crossknow.data.tofu_examples import Truncation, tofu_example, tofu_examples
from crossknow.training import finetuning as ft

PER_EXAMPLE = ROOT / "FT" / "configs" / "paper_tofu_per_example.yaml"
PAPER = ROOT / "FT" / "configs" / "paper_tofu.yaml"


@pytest.fixture(scope="module")
def bos_tokenizer():
    tokenizer = build_tokenizer("sentencepiece")  # adds <s> (BOS) like Llama's tokenizer
    a = tokenizer("A", add_special_tokens=False).input_ids
    assert len(a) == 1 and tokenizer("A A A").input_ids == [tokenizer.bos_token_id] + a * 3
    return tokenizer


def test_one_example_is_cut_at_max_length_and_ends_with_eos_only_when_whole():
    assert tofu_example([1, 2, 3, 4, 5], max_length=6, eos_id=9) == [1, 2, 3, 4, 5, 9]
    assert tofu_example([1, 2, 3, 4, 5], max_length=5, eos_id=9) == [1, 2, 3, 4, 5]  # exactly full: no EOS
    assert tofu_example([1, 2, 3, 4, 5], max_length=3, eos_id=9) == [1, 2, 3]
    assert tofu_example([1, 2], max_length=3, eos_id=None) == [1, 2]


def test_each_line_is_one_example_with_bos_cut_at_500_never_packed(bos_tokenizer):
    bos, eos = bos_tokenizer.bos_token_id, bos_tokenizer.eos_token_id
    a = bos_tokenizer("A", add_special_tokens=False).input_ids[0]
    docs = ["A A A", " ".join(["A"] * 600), "A"]  # 3 + 1, 600 + 1 and 1 + 1 tokens with BOS
    examples, truncation = tofu_examples(bos_tokenizer, docs, max_length=500)
    assert examples == [[bos, a, a, a, eos], [bos] + [a] * 499, [bos, a, eos]]
    assert truncation == Truncation(examples=3, truncated_examples=1, tokens=4 + 601 + 2, dropped_tokens=101)
    assert truncation.note(500) == ("note: per-example training (TOFU's loader): 3 examples (non-empty lines), "
                                    "1 longer than max_length 500; truncation drops 101 of 607 tokens (16.64%)")


def test_the_preset_builds_tofu_examples_and_packing_stays_bos_free(bos_tokenizer):
    config = ft.load_config(PER_EXAMPLE, ["--train_file", "x.txt"])
    bos, eos = bos_tokenizer.bos_token_id, bos_tokenizer.eos_token_id
    dataset = ft.build_dataset(bos_tokenizer, ["A A", "A"], config)
    assert [d["input_ids"].tolist()[0] for d in dataset] == [bos, bos] and len(dataset) == 2
    assert [d["input_ids"].tolist()[-1] for d in dataset] == [eos, eos]
    batch = ft.Collator(pad_id=eos)(dataset)  # padding is masked out of the loss; the learned EOS is not
    a = bos_tokenizer("A", add_special_tokens=False).input_ids[0]
    assert batch["labels"].tolist() == [[bos, a, a, eos], [bos, a, eos, -100]]
    packed = ft.build_dataset(bos_tokenizer, ["A A", "A"], {**config, "tofu_examples": False, "packing": True,
                                                            "block_size": 3})
    assert [d["input_ids"].tolist() for d in packed] == [[a, a, eos]]  # the project's preset: no BOS


def test_the_preset_is_the_paper_schedule_plus_tofus_loader():
    per_example = ft.flatten(ft.load_config(PER_EXAMPLE, ["--train_file", "x.txt"]))
    schedule = ft.flatten(ft.load_config(PAPER, ["--train_file", "x.txt"]))
    assert per_example == {**schedule, "packing": False, "tofu_examples": True, "max_length": 500}
    with pytest.raises(ft.ConfigError, match=r"^tofu_examples: true trains one example per line \(TOFU's loader\), "
                                             r"which needs packing: false$"):
        ft.load_config(PER_EXAMPLE, ["--train_file", "x.txt", "--packing", "true"])
    with pytest.raises(ft.ConfigError, match="^max_length: must be at least 2 tokens, got 1$"):
        ft.load_config(PER_EXAMPLE, ["--train_file", "x.txt", "--max_length", "1"])


def test_a_per_example_run_prints_and_records_the_truncated_share(bos_tokenizer, tmp_path, capsys):
    model_dir = tmp_path / "base"
    build_tiny_model(bos_tokenizer).save_pretrained(model_dir)
    bos_tokenizer.save_pretrained(model_dir)
    text = tmp_path / "train.txt"
    text.write_text("A A A\n\n" + " ".join(["A"] * 40) + "\nA\n", encoding="utf-8")
    summary = ft.main(["--config", str(PER_EXAMPLE), "--model", str(model_dir), "--train_file", str(text),
                       "--output_dir", str(tmp_path / "out"), "--deepspeed", "null", "--precision", "fp32",
                       "--max_length", "20", "--batch_size", "3", "--gradient_accumulation_steps", "1"])
    assert summary["examples"] == 3 and summary["global_step"] == 1
    assert summary["train_tokens"] == 5 + 20 + 3  # BOS + text (+ EOS), cut at 20; padding not counted
    assert ("note: per-example training (TOFU's loader): 3 examples (non-empty lines), 1 longer than "
            "max_length 20; truncation drops 21 of 47 tokens (44.68%)") in capsys.readouterr().out
    run = json.loads((tmp_path / "out" / "ft_run.json").read_text())
    assert run["truncation"] == {"examples": 3, "truncated_examples": 1, "tokens": 47, "dropped_tokens": 21,
                                 "dropped_share": round(21 / 47, 6)}
    resolved = yaml.safe_load((tmp_path / "out" / "ft_config.resolved.yaml").read_text())
    assert resolved["tofu_examples"] is True and resolved["max_length"] == 20
