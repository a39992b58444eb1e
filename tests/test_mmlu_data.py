"""Both MMLU CSV formats, their validation errors, and the folder layout."""

import pytest

from conftest import DEMO_DATA, SHARED_DATA
from crossknow.data.mmlu import (
    CATEGORIES,
    SUBJECTS,
    DataError,
    HubSource,
    Item,
    LocalSource,
    MixupHubFallback,
    format_mmlu_csv,
    open_source,
    parse_mmlu_csv,
    read_mmlu_csv,
)
from crossknow.evaluate import Settings, load_config_data, make_config

HENDRYCKS = 'What is 2 + 2?,3,4,5,6,B\n"A, quoted ""question""\nover two lines?",x,y,z,w,D\n'
HF = ('question,choice0,choice1,choice2,choice3,answer\n'
      'What is 2 + 2?,3,4,5,6,1\n"A, quoted ""question""\nover two lines?",x,y,z,w,3\n')
EXPECTED = [Item("What is 2 + 2?", ("3", "4", "5", "6"), 1),
            Item('A, quoted "question"\nover two lines?', ("x", "y", "z", "w"), 3)]


def test_both_formats_read_the_same_items():
    assert parse_mmlu_csv(HENDRYCKS, "h.csv") == EXPECTED
    assert parse_mmlu_csv(HF, "hf.csv") == EXPECTED


def test_written_csv_reads_back():
    assert parse_mmlu_csv(format_mmlu_csv(EXPECTED), "x") == EXPECTED


def test_wrong_field_count_names_file_and_row(tmp_path):
    path = tmp_path / "anatomy_test.csv"
    path.write_text("question,choice0,choice1,choice2,choice3,answer\nq,a,b,c,d,0\nq2,a,b,c,1\n")
    with pytest.raises(DataError, match=r"anatomy_test.csv: row 3: expected 6 fields .* got 5"):
        read_mmlu_csv(path)


@pytest.mark.parametrize("text,row,value", [
    ("q,a,b,c,d,E\n", 1, "'E'"),
    ("q,a,b,c,d,A\nq,a,b,c,d,1\n", 2, "'1'"),
    ("question,choice0,choice1,choice2,choice3,answer\nq,a,b,c,d,4\n", 2, "'4'"),
    ("question,choice0,choice1,choice2,choice3,answer\nq,a,b,c,d,B\n", 2, "'B'"),
])
def test_answer_outside_range_names_row_and_value(text, row, value):
    with pytest.raises(DataError, match=rf"f.csv: row {row}: answer {value} is not in"):
        parse_mmlu_csv(text, "f.csv")


def test_missing_subject_file_stops_before_any_model_work(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "anatomy_test.csv").write_text(HF)
    settings = Settings(subjects=["anatomy", "virology"])
    with pytest.raises(DataError, match=r"virology_test.csv: no such file"):
        load_config_data(LocalSource(tmp_path), make_config("en"), settings)


def test_missing_variant_folder_is_named(tmp_path):
    (tmp_path / "test").mkdir()
    with pytest.raises(DataError, match=r"test_full_fr: folder not found \(config full_fr\)"):
        load_config_data(LocalSource(tmp_path), make_config("full_fr"), Settings(subjects=["anatomy"]))


def test_too_few_demos_is_an_error(tmp_path):
    for split in ("test", "dev"):
        (tmp_path / split).mkdir()
        (tmp_path / split / f"anatomy_{split}.csv").write_text(HF)
    with pytest.raises(DataError, match="anatomy has 2 dev questions, fewer than k=5"):
        load_config_data(LocalSource(tmp_path), make_config("en"), Settings(k=5, subjects=["anatomy"]))


def test_subjects_and_categories():
    assert len(SUBJECTS) == 57
    assert sum(c == "STEM" for c in CATEGORIES.values()) == 18
    assert CATEGORIES["world_religions"] == "humanities"
    assert CATEGORIES["high_school_geography"] == "social sciences"
    assert CATEGORIES["management"] == "other"


def test_open_source_tells_folders_from_hub_names(tmp_path):
    assert isinstance(open_source(str(tmp_path)), MixupHubFallback)
    assert isinstance(open_source("cais/mmlu"), HubSource)
    fallback = open_source(str(DEMO_DATA))
    assert fallback.describe("test", "mixup").endswith("test_mixup")
    empty = open_source(str(tmp_path))
    assert empty.describe("test", "mixup") == "hub:cross-ling-know/mixup-lang-mmlu"


def test_demo_slice_is_aligned_with_english():
    source = LocalSource(DEMO_DATA)
    assert source.subjects("test") == ["abstract_algebra", "conceptual_physics", "high_school_geography",
                                       "management", "world_religions"]
    for subject in source.subjects("test"):
        for split, n in (("dev", 5), ("test", 10)):
            english = source.load(subject, split)
            assert len(english) == n
            for lang in ("fr", "de", "es", "it"):
                translated = source.load(subject, split, f"full_{lang}")
                assert [t.answer for t in translated] == [e.answer for e in english]
                assert all(t.question != e.question for t, e in zip(translated, english))


@pytest.mark.skipif(not (SHARED_DATA / "mmlu").is_dir(), reason="../shared/data/mmlu not present")
def test_shared_mmlu_reads_completely():
    source = LocalSource(SHARED_DATA / "mmlu")
    assert source.subjects("test") == SUBJECTS
    assert sum(len(source.load(s, "test")) for s in SUBJECTS) == 14042
    assert sum(len(source.load(s, "dev")) for s in SUBJECTS) == 285
    assert source.load("abstract_algebra", "test")[0].question.startswith("Find the degree for the given field")
