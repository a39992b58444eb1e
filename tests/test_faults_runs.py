"""Fault tests (issue 21, classes 5, 6, 8, 9, 10): provenance kept across partial reruns,
fine-tuning reruns and edge values, failures that must stop a run, settings checked before the
first long step, and the alignment of imported translations. Each test failed on the code before."""

import json

import pytest

from conftest import DEMO_DATA, load_script
from crossknow.mmlu import DataError, read_mmlu_csv
from crossknow.translation import translate

mmlu_translate = load_script("MMLU/translate.py")
build_variants = load_script("MMLU/build_variants.py")


class FailingTranslator:
    """Upper-cases text; a text in ``failing`` fails (a network error)."""

    name, model = "fake", "upper"

    def __init__(self, failing: set[str]):
        self.failing = failing

    def translate_batch(self, texts, src, tgt):
        if any(t in self.failing for t in texts):
            raise ConnectionError("backend down")
        return [f"[{tgt}] {t.upper()}" for t in texts]


def translate_demo(tmp_path, monkeypatch, failing: set[str], subjects: list[str], *extra: str) -> None:
    monkeypatch.setattr(mmlu_translate, "make_translator", lambda kind, model=None: FailingTranslator(failing))
    monkeypatch.setattr(mmlu_translate, "translate", lambda *a, **k: translate(*a, **{**k, "batch_size": 1,
                                                                                   "retry_wait": 0}))
    mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                         "--subjects", *subjects, "--limit", "3", "--languages", "es", "--mode", "full",
                         "--cache", str(tmp_path / "cache.sqlite"), *extra])


# 21.5 provenance survives a partial rerun; variants are never built from kept-English cells unasked

def test_a_partial_rerun_keeps_the_kept_english_flags_and_build_variants_refuses_them(tmp_path, monkeypatch):
    both = ["management", "world_religions"]
    translate_demo(tmp_path, monkeypatch, {"Satisficing"}, both, "--on_failure", "keep_english")
    translate_demo(tmp_path, monkeypatch, set(), ["world_religions"], "--on_failure", "keep_english")
    manifest_path = tmp_path / "out" / "test_full_es" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kept_english_cells"] == {"management": [[0, "B"]]}
    assert manifest["incomplete_subjects"] == ["management"]
    assert manifest["subjects"] == 2
    argv = ["--data_dir", str(tmp_path / "out"), "--languages", "es", "--splits", "test", "--no_mixup"]
    with pytest.raises(DataError, match=r"test_full_es/manifest.json: 1 cell\(s\) kept in English in 1 subject\(s\) "
                                        r"\(management\), first management: row 1 B; re-run"):
        build_variants.main(argv)
    assert not (tmp_path / "out" / "test_gt_es").exists()

    build_variants.main([*argv, "--allow_kept_english"])  # asked for: built, and the manifest says so
    gt_manifest = json.loads((tmp_path / "out" / "test_gt_es" / "manifest.json").read_text())
    assert gt_manifest["kept_english_subjects"] == {"full_es": ["management"]}

    translate_demo(tmp_path, monkeypatch, set(), ["management"])  # translated at last: the flag goes
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kept_english_cells"] == {} and manifest["incomplete_subjects"] == []
    assert read_mmlu_csv(tmp_path / "out" / "test_full_es" / "management_test.csv")[0].choices[1] == "[es] SATISFICING"
    build_variants.main([*argv, "--overwrite"])
    assert "kept_english_subjects" not in json.loads((tmp_path / "out" / "test_gt_es" / "manifest.json").read_text())


def test_a_failed_rerun_with_stop_keeps_the_earlier_flag(tmp_path, monkeypatch):
    translate_demo(tmp_path, monkeypatch, {"Satisficing"}, ["management"], "--on_failure", "keep_english")
    with pytest.raises(mmlu_translate.TranslationFailed):
        translate_demo(tmp_path, monkeypatch, {"Satisficing"}, ["management", "world_religions"])
    manifest = json.loads((tmp_path / "out" / "test_full_es" / "manifest.json").read_text())
    assert manifest["kept_english_cells"] == {"management": [[0, "B"]]}
    assert sorted(manifest["subject_sources"]) == ["management", "world_religions"]
    with pytest.raises(DataError, match="kept in English"):
        mmlu_translate.main(["--data_dir", str(tmp_path / "out"), "--split", "test", "--languages", "es",
                             "--mode", "gt", "--subjects", "management"])
