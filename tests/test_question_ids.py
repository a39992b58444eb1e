"""Question ids (crossknow/data/question_ids.py): the same for a question in every variant, different for
another English row at the same position, and the (unit, index) fallback of older records."""

import hashlib
import json
import shutil

from conftest import DEMO_DATA
from crossknow.data.mmlu import LocalSource, read_mmlu_csv
from crossknow.data.question_ids import record_id
from crossknow.evaluate import Settings, config_units, load_config_data, make_config

SUBJECT = "abstract_algebra"


def demo_ids(data_dir, variant, limit=3):
    settings = Settings(subjects=[SUBJECT], limit=limit)
    data = load_config_data(LocalSource(data_dir), make_config(variant), settings)
    return data[SUBJECT].ids


def test_a_question_keeps_its_english_id_in_every_variant():
    first = read_mmlu_csv(DEMO_DATA / "test" / f"{SUBJECT}_test.csv")[0]
    digest = hashlib.sha256(json.dumps([first.question, list(first.choices), first.answer]).encode()).hexdigest()
    english = demo_ids(DEMO_DATA, "en")
    assert english[0] == f"mmlu/{SUBJECT}/test/0/{digest[:8]}"
    assert [i.rsplit("/", 1)[0] for i in english] == [f"mmlu/{SUBJECT}/test/{row}" for row in range(3)]
    for variant in ("full_fr", "question_zh", "mixup"):
        assert demo_ids(DEMO_DATA, variant) == english


def test_another_english_row_at_the_same_position_gets_another_id(tmp_path):
    for folder in ("test", "test_full_fr"):
        shutil.copytree(DEMO_DATA / folder, tmp_path / folder)
    path = tmp_path / "test" / f"{SUBJECT}_test.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[2] + lines[1] + "".join(lines[3:]))  # rows 0 and 1 swapped
    assert demo_ids(tmp_path, "full_fr")[0] == demo_ids(DEMO_DATA, "en")[1].replace("/test/1/", "/test/0/")
    assert demo_ids(tmp_path, "full_fr")[0] != demo_ids(DEMO_DATA, "en")[0]


def test_records_carry_the_id_and_the_culture_tag_beside_it():
    settings = Settings(subjects=[SUBJECT], limit=2)
    data = load_config_data(LocalSource(DEMO_DATA), make_config("full_fr"), settings)
    units = config_units(make_config("full_fr"), data, settings)
    assert [extra["id"] for extra in units[0].extras] == demo_ids(DEMO_DATA, "en", limit=2)


def test_older_records_fall_back_to_unit_and_index():
    assert record_id({"subject": "anatomy", "index": 4}) == ("anatomy/4", True)
    assert record_id({"language": "fr", "index": 2}, "language") == ("fr/2", True)
    assert record_id({"id": "hp/3", "index": 3}) == ("hp/3", False)
    assert record_id({"person": "Ana Loro", "relation": "city", "index": 0}) == ("synthetic/Ana Loro/city", False)
