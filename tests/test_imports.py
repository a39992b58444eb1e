"""Importing human translations: Global-MMLU (a local stand-in saved with ``datasets``) and several
MMMLU languages in one call, aligned to English, with every variant built and Global-MMLU's culture
tags carried into the data and the per-question records."""

import csv
import json

import jsonschema
import pytest

from conftest import DEMO_DATA, load_script
from crossknow.core.io import read_jsonl
from crossknow.core.results import SCHEMA_FILE, validate_result
from crossknow.data.mmlu import DataError, LocalSource

SCHEMA = json.loads(SCHEMA_FILE.read_text())
RECORD_SCHEMA = {**SCHEMA["$defs"]["record"], "$defs": SCHEMA["$defs"]}

mmlu_translate = load_script("MMLU/translate.py")
SUBJECTS = ["management", "world_religions"]
MODES = ["question", "options", "gt", "gt_question", "onewrong", "threewrong"]


def tag_of(subject: str, row: int) -> tuple[str, bool]:
    """A stand-in annotation: some rows sensitive, some agnostic, some not annotated."""
    if subject == "management" and row % 3 == 2:
        return "", False
    return ("CS" if row % 2 else "CA"), True


def global_mmlu_rows(lang: str, split: str, subjects=("management", "high_school_geography", "world_religions")):
    """Rows in Global-MMLU's columns, from the demo's translations; an extra subject in between."""
    rows = []
    for subject in subjects:
        for i, item in enumerate(LocalSource(DEMO_DATA).load(subject, split, f"full_{lang}")):
            label, annotated = tag_of(subject, i)
            rows.append({"sample_id": f"{subject}/{split}/{i}", "subject": subject, "subject_category": "x",
                         "question": item.question, **{f"option_{c}": item.choices[j] for j, c in enumerate("abcd")},
                         "answer": "ABCD"[item.answer], "required_knowledge": "", "time_sensitive": "",
                         "reference": "", "culture": "", "region": "", "country": "",
                         "cultural_sensitivity_label": label, "is_annotated": annotated})
    return rows


@pytest.fixture
def global_mmlu(tmp_path):
    from datasets import Dataset, DatasetDict

    root = tmp_path / "global-mmlu"
    DatasetDict({split: Dataset.from_list(global_mmlu_rows("fr", split)) for split in ("test", "dev")}
                ).save_to_disk(str(root / "fr"))
    Dataset.from_list(global_mmlu_rows("de", "test")).save_to_disk(str(root / "de"))  # one split saved alone
    return root


def translate(tmp_path, *extra):
    mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                         "--subjects", *SUBJECTS, *extra])
    return tmp_path / "out"


def test_global_mmlu_import_builds_aligned_full_folders_every_variant_and_tags(global_mmlu, tmp_path, bpe_model_dir):
    out = translate(tmp_path, "--languages", "fr", "de", "--import_global_mmlu", str(global_mmlu))
    demo, imported = LocalSource(DEMO_DATA), LocalSource(out)
    for lang in ("fr", "de"):
        for subject in SUBJECTS:
            assert imported.load(subject, "test", f"full_{lang}") == demo.load(subject, "test", f"full_{lang}")
            for mode in MODES:  # the same rows the demo's own builder made from the same translations
                assert imported.load(subject, "test", f"{mode}_{lang}") == demo.load(subject, "test", f"{mode}_{lang}")
        manifest = json.loads((out / f"test_full_{lang}" / "manifest.json").read_text())
        assert manifest["source"] == f"import:global-mmlu:{global_mmlu}:{lang}"
        assert (manifest["rows"], manifest["culturally_sensitive"], manifest["culturally_agnostic"],
                manifest["not_annotated"]) == (20, 9, 8, 3)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        ["test", "test_full_fr", "test_full_de"] + [f"test_{m}_{lang}" for m in MODES for lang in ("fr", "de")])
    expected = [tag_of("management", i) for i in range(10)]
    expected = [label if annotated else None for label, annotated in expected]
    for variant in ("full_de", "gt_fr", "threewrong_de"):
        assert [i.culture for i in imported.load("management", "test", variant)] == expected

    mmlu_eval = load_script("MMLU/eval.py")
    save = tmp_path / "results"
    mmlu_eval.main(["--model", str(bpe_model_dir), "--data_dir", str(out), "--save_dir", str(save), "--dtype",
                    "fp32", "--subjects", *SUBJECTS, "--configs", "full_fr", "gt_de", "--languages", "fr", "de"])
    for config in ("full_fr", "gt_de"):
        records = read_jsonl(save / f"{bpe_model_dir.name}_0shot" / config / "management.jsonl")
        assert [r.get("culture") for r in records] == expected
        validate_result(json.loads((save / f"{bpe_model_dir.name}_0shot" / f"result_{config}.json").read_text()))
        for record in records:
            jsonschema.validate(record, RECORD_SCHEMA)
    assert [i.culture for i in imported.load("management", "test")] == expected  # English too
    religions = read_jsonl(next(save.glob("*_0shot")) / "full_fr" / "world_religions.jsonl")
    assert {r["culture"] for r in religions} == {"CA", "CS"}


def test_global_mmlu_import_refuses_misaligned_or_mislabelled_data(tmp_path):
    from datasets import Dataset

    rows = global_mmlu_rows("fr", "test")
    rows[3]["answer"] = "ABCD"[("ABCD".index(rows[3]["answer"]) + 1) % 4]
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "gm" / "fr"))
    with pytest.raises(DataError, match=r"gm/fr \(management\): the answer differs from English on row\(s\) \[4\]"):
        translate(tmp_path, "--languages", "fr", "--import_global_mmlu", str(tmp_path / "gm"))
    rows = global_mmlu_rows("fr", "test")
    rows[22]["cultural_sensitivity_label"] = "maybe"
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "gm2" / "fr"))
    with pytest.raises(DataError, match=r"gm2/fr: row 23: cultural_sensitivity_label 'maybe' is not CS or CA"):
        translate(tmp_path, "--languages", "fr", "--import_global_mmlu", str(tmp_path / "gm2"))
    with pytest.raises(DataError, match=r"gm2/de: not found; a local Global-MMLU copy holds one save_to_disk"):
        translate(tmp_path, "--languages", "de", "--import_global_mmlu", str(tmp_path / "gm2"))
    rows = global_mmlu_rows("fr", "test")
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "gm3" / "fr"))
    rows[0]["cultural_sensitivity_label"] = "CS"  # de disagrees with fr on one question
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "gm3" / "de"))
    with pytest.raises(DataError, match=r"gm3/de: management row 1: culture tag 'CS', but .*test/culture.json has 'CA'"):
        translate(tmp_path, "--languages", "fr", "de", "--import_global_mmlu", str(tmp_path / "gm3"))


def test_global_mmlu_usage_errors(tmp_path, capsys):
    data = ["--data_dir", str(DEMO_DATA)]  # an existing English folder: the usage errors below are what is tested
    for argv, message in ((["--import_global_mmlu", "x"], "--import_global_mmlu needs --languages"),
                          (["--import_global_mmlu", "x", "--languages", "ca"], "Global-MMLU has no language 'ca'"),
                          (["--import_global_mmlu", "x", "--languages", "en"], "leave en out of --languages")):
        with pytest.raises(SystemExit):
            mmlu_translate.parse_args(data + argv)
        assert message in capsys.readouterr().err


def write_mmmlu(path, lang: str, index: bool = True):
    """An MMMLU-format file (unnamed index, Question, A-D, Answer, Subject) from the demo translations."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["", "Question", "A", "B", "C", "D", "Answer", "Subject"][0 if index else 1:])
        for subject in SUBJECTS:
            for i, item in enumerate(LocalSource(DEMO_DATA).load(subject, "test", f"full_{lang}")):
                writer.writerow([i, item.question, *item.choices, "ABCD"[item.answer], subject][0 if index else 1:])


def test_mmmlu_import_takes_several_languages_in_one_call(tmp_path):
    folder = tmp_path / "mmmlu"
    folder.mkdir()
    for lang, locale in (("fr", "FR-FR"), ("de", "DE-DE"), ("es", "ES-LA"), ("it", "IT-IT")):
        write_mmmlu(folder / f"mmlu_{locale}.csv", lang)
    out = translate(tmp_path, "--import_mmmlu", str(folder))
    demo, imported = LocalSource(DEMO_DATA), LocalSource(out)
    for lang in ("fr", "de", "es", "it"):
        assert imported.load("management", "test", f"full_{lang}") == demo.load("management", "test", f"full_{lang}")
    # Four languages: mixup too, the paper's own, identical to the demo's.
    assert imported.load("world_religions", "test", "mixup") == demo.load("world_religions", "test", "mixup")
    assert not (out / "test_full_fr" / "culture.json").exists()

    out2 = translate(tmp_path / "two", "--languages", "de", "es", "--import_mmmlu",
                     str(folder / "mmlu_FR-FR.csv"), str(folder / "mmlu_DE-DE.csv"), str(folder / "mmlu_ES-LA.csv"))
    assert sorted(p.name for p in out2.glob("test_full_*")) == ["test_full_de", "test_full_es"]
    with pytest.raises(DataError, match=r"no MMMLU file for it among .*mmlu_FR-FR.csv"):
        translate(tmp_path / "three", "--languages", "it", "--import_mmmlu", str(folder / "mmlu_FR-FR.csv"))


def test_global_mmlu_import_keeps_sample_id_beside_the_mmlu_id_in_rows_and_records(global_mmlu, tmp_path,
                                                                                  bpe_model_dir):
    out = translate(tmp_path, "--languages", "fr", "--import_global_mmlu", str(global_mmlu))
    kept = json.loads((out / "test_full_fr" / "source_ids.json").read_text())
    assert kept["subjects"]["management"][:2] == ["global-mmlu:management/test/0", "global-mmlu:management/test/1"]
    assert [i.source_id for i in LocalSource(out).load("world_religions", "test", "full_fr")][9] == \
        "global-mmlu:world_religions/test/9"
    save = tmp_path / "results"
    load_script("MMLU/eval.py").main(["--model", str(bpe_model_dir), "--data_dir", str(out), "--save_dir", str(save),
                                      "--dtype", "fp32", "--subjects", "management", "--configs", "full_fr",
                                      "--languages", "fr"])
    records = read_jsonl(save / f"{bpe_model_dir.name}_0shot" / "full_fr" / "management.jsonl")
    assert records[3]["source_id"] == "global-mmlu:management/test/3"
    assert records[3]["id"].startswith("mmlu/management/test/3/")
    for record in records:
        jsonschema.validate(record, RECORD_SCHEMA)


def test_a_global_mmlu_sample_id_naming_another_row_is_refused_with_both_ids(tmp_path):
    from datasets import Dataset

    from crossknow.data.question_ids import mmlu_question_id

    rows = global_mmlu_rows("fr", "test")
    rows[2], rows[3] = rows[3], rows[2]  # two management rows swapped: same count, other order
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "gm" / "fr"))
    english_row_2 = mmlu_question_id("management", "test", 2, LocalSource(DEMO_DATA).load("management", "test")[2])
    with pytest.raises(DataError, match=rf"gm/fr: row 3: sample_id 'management/test/3' does not name the English "
                                        rf"MMLU row it is aligned to, {english_row_2}$"):
        translate(tmp_path, "--languages", "fr", "--import_global_mmlu", str(tmp_path / "gm"))
    assert not (tmp_path / "out" / "test_full_fr").exists()


def test_an_imported_row_moved_after_the_import_is_refused_by_the_evaluation(global_mmlu, tmp_path, bpe_model_dir):
    out = translate(tmp_path, "--languages", "fr", "--import_global_mmlu", str(global_mmlu))
    path = out / "test_full_fr" / "source_ids.json"
    kept = json.loads(path.read_text())
    ids = kept["subjects"]["management"]
    ids[0], ids[1] = ids[1], ids[0]
    path.write_text(json.dumps(kept))
    with pytest.raises(DataError, match=r"test_full_fr: management row 1: source id 'global-mmlu:management/test/1' "
                                        r"does not name the English MMLU row mmlu/management/test/0$"):
        load_script("MMLU/eval.py").main(["--model", str(bpe_model_dir), "--data_dir", str(out), "--save_dir",
                                          str(tmp_path / "r"), "--dtype", "fp32", "--subjects", "management",
                                          "--configs", "full_fr", "--languages", "fr"])


def test_mmmlu_import_keeps_the_row_index_of_each_row(tmp_path):
    folder = tmp_path / "mmmlu"
    folder.mkdir()
    write_mmmlu(folder / "mmlu_FR-FR.csv", "fr")
    out = translate(tmp_path, "--import_mmmlu", str(folder / "mmlu_FR-FR.csv"))
    kept = json.loads((out / "test_full_fr" / "source_ids.json").read_text())
    assert kept == {"subjects": {s: [f"mmmlu:{i}" for i in range(10)] for s in SUBJECTS}}
    write_mmmlu(folder / "mmlu_FR-FR.csv", "fr", index=False)  # re-imported without its index: the ids go
    translate(tmp_path, "--import_mmmlu", str(folder / "mmlu_FR-FR.csv"))
    assert not (out / "test_full_fr" / "source_ids.json").exists()
    assert {i.source_id for i in LocalSource(out).load("management", "test", "full_fr")} == {None}
