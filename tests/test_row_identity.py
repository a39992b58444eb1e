"""A translated row skipped by MMLU/translate.py (--on_failure skip) never shifts the question ids of
the rows after it: full folders' ``skipped`` and built folders' ``english_rows`` map each row to the
English row it translates; a variant with another row count and no map is refused."""

import json

import pytest

from crossknow.data.mmlu import DataError, Item, LocalSource, format_mmlu_csv
from crossknow.data.question_ids import mmlu_question_id
from crossknow.data.variant_folders import build_variant_folders
from crossknow.evaluate import Settings, english_ids, make_config

ENGLISH = [Item(f"English question {i}?", (f"a{i}", f"b{i}", f"c{i}", f"d{i}"), i % 4) for i in range(4)]


def write(folder, items, manifest=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "management_test.csv").write_text(format_mmlu_csv(items))
    (folder / "management_dev.csv").write_text(format_mmlu_csv(items[:1]))
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def data_dir(tmp_path):
    write(tmp_path / "test", ENGLISH)
    french = [Item(f"Question {i} ?", (f"a{i}", f"b{i}", f"c{i}", f"d{i}"), i % 4) for i in (0, 2, 3)]
    write(tmp_path / "test_full_fr", french, {"skipped": {"management": [1]}})
    return tmp_path


def ids(data_dir, variant, limit=None):
    source = LocalSource(data_dir)
    settings = Settings(limit=limit, subjects=["management"])
    test = source.load("management", "test", variant)[:limit]
    return english_ids(source, "management", make_config(variant), test, settings)


def expected(rows):
    return [mmlu_question_id("management", "test", r, ENGLISH[r]) for r in rows]


@pytest.mark.parametrize("limit", [None, 2])
def test_a_full_folder_with_a_skipped_row_takes_the_ids_of_the_rows_it_translates(data_dir, limit):
    assert ids(data_dir, "full_fr", limit) == expected([0, 2, 3][:limit])


def test_built_variants_record_which_english_row_each_row_is(data_dir):
    (data_dir / "dev").mkdir()
    (data_dir / "dev" / "management_dev.csv").write_text(format_mmlu_csv(ENGLISH[:1]))
    write_dev = data_dir / "dev_full_fr"
    write_dev.mkdir()
    (write_dev / "management_dev.csv").write_text(format_mmlu_csv(
        [Item("Question 0 ?", ("a0", "b0", "c0", "d0"), 0)]))
    build_variant_folders(data_dir, ["fr"], modes=("question",), mixup=False)
    manifest = json.loads((data_dir / "test_question_fr" / "manifest.json").read_text())
    assert manifest["english_rows"] == {"management": [0, 2, 3]}
    assert ids(data_dir, "question_fr") == expected([0, 2, 3])
    assert ids(data_dir, "question_fr", limit=2) == expected([0, 2])


def test_a_variant_with_another_row_count_and_no_map_is_refused(data_dir):
    (data_dir / "test_full_fr" / "manifest.json").unlink()
    with pytest.raises(DataError, match="management has 3 test rows but English has 4, and its manifest.json "
                                        "records no row map"):
        ids(data_dir, "full_fr")
