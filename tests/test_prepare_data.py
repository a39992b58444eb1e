"""Data for the MMLU launchers: English MMLU and the paper's mixup release fetched from the hub
(here from local stand-ins), then translations and every variant, by one launcher."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import DEMO_DATA, ROOT, load_script
from crossknow.data.mmlu import (
    SUBJECTS,
    DataError,
    HubSource,
    LocalSource,
    MixupHubFallback,
    looks_like_hub_name,
    open_source,
    read_mmlu_csv,
    subject_path,
)

DEMO_SUBJECTS = ["abstract_algebra", "conceptual_physics", "high_school_geography", "management", "world_religions"]


@pytest.fixture(scope="module")
def saved_mmlu(tmp_path_factory):
    """A stand-in for cais/mmlu: the demo's English rows as a DatasetDict saved with save_to_disk."""
    from datasets import Dataset, DatasetDict

    demo = LocalSource(DEMO_DATA)
    splits = {}
    for split in ("dev", "test"):
        rows = {"question": [], "subject": [], "choices": [], "answer": []}
        for subject in DEMO_SUBJECTS:
            for item in demo.load(subject, split):
                rows["question"].append(item.question)
                rows["subject"].append(subject)
                rows["choices"].append(list(item.choices))
                rows["answer"].append(item.answer)
        splits[split] = Dataset.from_dict(rows)
    path = tmp_path_factory.mktemp("hub") / "mmlu"
    DatasetDict(splits).save_to_disk(str(path))
    return path


@pytest.fixture(scope="module")
def mixup_release(tmp_path_factory):
    """A stand-in for cross-ling-know/mixup-lang-mmlu: the release layout data/{split}/."""
    path = tmp_path_factory.mktemp("hub") / "mixup"
    for split in ("dev", "test"):
        shutil.copytree(DEMO_DATA / f"{split}_mixup", path / "data" / split,
                        ignore=shutil.ignore_patterns("*.json", "*.jsonl"))
    return path


def test_hub_names_are_told_from_missing_local_paths():
    assert looks_like_hub_name("cais/mmlu")
    assert not looks_like_hub_name("MMLU/full")  # MMLU/ exists here: a local path
    assert not looks_like_hub_name("./data")
    assert not looks_like_hub_name("MMLU/data/full")
    assert isinstance(open_source("cais/mmlu"), HubSource)
    assert isinstance(open_source("MMLU/full"), MixupHubFallback)


def test_saved_dataset_serves_english_and_refuses_variants(saved_mmlu):
    source = open_source(str(saved_mmlu))
    demo = LocalSource(DEMO_DATA)
    assert source.subjects("test") == DEMO_SUBJECTS
    for subject in DEMO_SUBJECTS:
        assert source.load(subject, "test") == demo.load(subject, "test")
        assert source.load(subject, "dev") == demo.load(subject, "dev")
    assert not source.has("test", "full_fr")
    with pytest.raises(DataError, match="holds no test_full_fr data"):
        source.load("management", "test", "full_fr")


def test_the_hub_english_source_asks_for_one_config_per_subject(monkeypatch, saved_mmlu):
    """cais/mmlu by name: load_dataset(name, subject, split=...), as the hub lays it out."""
    import datasets

    saved = datasets.load_from_disk(str(saved_mmlu))
    calls = []

    def fake_load_dataset(name, config=None, split=None, **kwargs):
        calls.append((name, config, split))
        return saved[split].filter(lambda row: row["subject"] == config)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    source = open_source("cais/mmlu")
    assert source.subjects("test") == SUBJECTS
    assert source.load("management", "test") == LocalSource(DEMO_DATA).load("management", "test")
    assert calls == [("cais/mmlu", "management", "test")]
    assert not source.has("test", "mixup")


def test_the_mixup_fallback_asks_the_release_for_its_files(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(name, data_files=None, **kwargs):
        calls.append((name, data_files))
        path = DEMO_DATA / "test_mixup" / "management_test.csv"
        return {"train": datasets.Dataset.from_csv(str(path))}

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    items = open_source(str(DEMO_DATA / "no_such_subfolder")).hub.load("management", "test", "mixup")
    assert calls == [("cross-ling-know/mixup-lang-mmlu", ["data/test/management_test.csv"])]
    assert items == read_mmlu_csv(DEMO_DATA / "test_mixup" / "management_test.csv")


def test_fetch_writes_the_paper_layout_and_refuses_to_overwrite_other_content(tmp_path, saved_mmlu, mixup_release):
    fetch = load_script("MMLU/fetch_data.py")
    out = tmp_path / "full"
    fetch.main(["--out_dir", str(out), "--source", str(saved_mmlu), "--mixup", str(mixup_release)])
    demo = LocalSource(DEMO_DATA)
    fetched = LocalSource(out)
    for split in ("dev", "test"):
        assert fetched.subjects(split) == DEMO_SUBJECTS
        for subject in DEMO_SUBJECTS:
            assert fetched.load(subject, split) == demo.load(subject, split)
            assert fetched.load(subject, split, "mixup") == demo.load(subject, split, "mixup")
    fetch.main(["--out_dir", str(out), "--source", str(saved_mmlu), "--no_mixup"])  # same content: fine
    changed = subject_path(out / "test", "management", "test")
    changed.write_text(changed.read_text().replace("What is the term", "What was the term", 1))
    with pytest.raises(FileExistsError, match="management_test.csv exists with other content"):
        fetch.main(["--out_dir", str(out), "--source", str(saved_mmlu), "--no_mixup"])


def test_translate_reads_english_from_a_hub_style_source(tmp_path, saved_mmlu):
    translate = load_script("MMLU/translate.py")
    out = tmp_path / "full"
    translate.main(["--split", "test", "--languages", "fr", "--data_dir", str(saved_mmlu), "--out_dir", str(out),
                    "--import_dir", str(DEMO_DATA / "test_full_fr")])
    demo = LocalSource(DEMO_DATA)
    for subject in DEMO_SUBJECTS:
        assert LocalSource(out).load(subject, "test") == demo.load(subject, "test")
        assert LocalSource(out).load(subject, "test", "full_fr") == demo.load(subject, "test", "full_fr")
    with pytest.raises(SystemExit):  # a hub source needs --out_dir
        translate.parse_args(["--data_dir", str(saved_mmlu)])


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (.ci/run installs it)")
def test_prepare_data_launcher_end_to_end(tmp_path, saved_mmlu, mixup_release):
    """The one data command, offline: stand-in hub, Apertium as the translator, two subjects."""
    out = tmp_path / "full"
    env = {**os.environ, "OUT_DIR": str(out), "SOURCE": str(saved_mmlu), "MIXUP": str(mixup_release),
           "TRANSLATOR": "apertium", "LANGUAGES": "es", "SUBJECTS": "management world_religions",
           "CROSSKNOW_CACHE": str(tmp_path / "cache"),
           # the launcher calls `python`: this one's folder first (a symlink to it elsewhere loses a venv)
           "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(ROOT / "MMLU/scripts/prepare_data.sh")], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MMLU data ready" in done.stdout
    folders = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # not the writer's lock
    expected = sorted(f"{split}{suffix}" for split in ("dev", "test") for suffix in (
        "", "_mixup", "_full_es", "_question_es", "_options_es", "_gt_es", "_gt_question_es", "_onewrong_es",
        "_threewrong_es"))
    assert folders == expected
    data = LocalSource(out)
    for subject in ("management", "world_religions"):
        english = data.load(subject, "test")
        for mode in ("full", "question", "onewrong"):
            translated = data.load(subject, "test", f"{mode}_es")
            assert [t.answer for t in translated] == [e.answer for e in english]
        assert data.load(subject, "test", "full_es")[0].question != english[0].question
