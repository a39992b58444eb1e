"""Variant builder properties, and the committed demo variants equal what the builder writes."""

import filecmp

import pytest

from conftest import DEMO_DATA
from crossknow.data.mmlu import Item, LocalSource
from crossknow.data.variant_folders import OverwriteError, build_variant_folders
from crossknow.data.variants import build_mixup, build_variant

EN = [Item(f"q{i}", (f"a{i}", f"b{i}", f"c{i}", f"d{i}"), i % 4) for i in range(12)]


def tr(lang):
    return [Item(f"{lang}-{e.question}", tuple(f"{lang}-{c}" for c in e.choices), e.answer) for e in EN]


def translated_positions(row: Item, english: Item) -> list[int]:
    return [i for i in range(4) if row.choices[i] != english.choices[i]]


@pytest.mark.parametrize("mode,question,options", [
    ("full", True, lambda e: [0, 1, 2, 3]),
    ("question", True, lambda e: []),
    ("options", False, lambda e: [0, 1, 2, 3]),
    ("gt", False, lambda e: [e.answer]),
    ("gt_question", True, lambda e: [e.answer]),
    ("threewrong", False, lambda e: [i for i in range(4) if i != e.answer]),
])
def test_modes_translate_exactly_their_parts(mode, question, options):
    rows = build_variant(mode, EN, tr("fr"), "anatomy", "test")
    for row, english in zip(rows, EN):
        assert (row.question != english.question) == question
        assert translated_positions(row, english) == options(english)
        assert row.answer == english.answer


def test_onewrong_translates_one_wrong_option_chosen_per_row():
    rows = build_variant("onewrong", EN, tr("fr"), "anatomy", "test", seed=0)
    picked = []
    for row, english in zip(rows, EN):
        positions = translated_positions(row, english)
        assert len(positions) == 1 and positions[0] != english.answer
        assert row.question == english.question
        picked.append(positions[0] - (positions[0] > english.answer))
    assert len(set(picked)) > 1  # not always the same wrong option


def test_mixup_uses_five_languages_per_row_and_is_seeded_per_row():
    translations = {lang: tr(lang) for lang in ("fr", "de", "es", "it")}
    rows, langs = build_mixup(EN, translations, "anatomy", "test", seed=0)
    for row, row_langs, english in zip(rows, langs, EN):
        assert sorted(row_langs) == ["de", "en", "es", "fr", "it"]
        assert row.answer == english.answer
        parts = [row.question, *row.choices]
        for part, lang in zip(parts, row_langs):
            assert part.startswith(f"{lang}-") or (lang == "en" and "-" not in part)
    assert len({tuple(x) for x in langs}) > 1
    again, _ = build_mixup(EN, translations, "anatomy", "test", seed=0)
    assert again == rows
    # A row does not depend on which other rows are processed.
    subset, _ = build_mixup(EN[:3], {k: v[:3] for k, v in translations.items()}, "anatomy", "test", seed=0)
    assert subset == rows[:3]
    other_seed, _ = build_mixup(EN, translations, "anatomy", "test", seed=1)
    assert other_seed != rows


def test_translation_that_changes_the_answer_is_refused():
    bad = tr("fr")
    bad[2] = Item(bad[2].question, bad[2].choices, (bad[2].answer + 1) % 4)
    with pytest.raises(ValueError, match="keep the English answer"):
        build_variant("full", EN, bad, "anatomy", "test")


DEMO_SETS = {  # the languages and mixup set of each bundled group of demo variants
    "paper": (["fr", "de", "es", "it"], None),
    "non-Latin": (["zh", "ru", "ar", "hi", "ja"], ["zh", "ru", "ar", "hi"]),
}


@pytest.mark.parametrize("group", DEMO_SETS)
def test_committed_demo_variants_equal_the_builder_output(tmp_path, group):
    import shutil

    languages, mixup_languages = DEMO_SETS[group]
    for folder in DEMO_DATA.iterdir():
        if folder.name in ("dev", "test") or "_full_" in folder.name:
            shutil.copytree(folder, tmp_path / folder.name)
    written = build_variant_folders(tmp_path, languages, mixup_languages=mixup_languages)
    assert len(written) == 2 * (6 * len(languages) + 1)
    for folder in written:
        committed = DEMO_DATA / folder.name
        names = sorted(p.name for p in folder.iterdir())
        assert names == sorted(p.name for p in committed.iterdir())
        match, mismatch, errors = filecmp.cmpfiles(folder, committed, names, shallow=False)
        assert not mismatch and not errors, (folder.name, mismatch, errors)


def test_builder_refuses_to_overwrite_other_content(tmp_path):
    import shutil

    for name in ("test", "test_full_fr", "test_full_de", "test_full_es", "test_full_it"):
        shutil.copytree(DEMO_DATA / name, tmp_path / name)
    build_variant_folders(tmp_path, ["fr", "de", "es", "it"], splits=["test"])
    build_variant_folders(tmp_path, ["fr", "de", "es", "it"], splits=["test"])  # same content: fine
    with pytest.raises(OverwriteError, match=r"exists with other content \(\d+ file\(s\) would change\); use --overwrite"):
        build_variant_folders(tmp_path, ["fr", "de", "es", "it"], splits=["test"], seed=5)
    assert filecmp.cmp(tmp_path / "test_mixup" / "management_test.csv",
                       DEMO_DATA / "test_mixup" / "management_test.csv", shallow=False)
    build_variant_folders(tmp_path, ["fr", "de", "es", "it"], splits=["test"], seed=5, overwrite=True)
    assert LocalSource(tmp_path).load("management", "test", "mixup")


def test_every_bundled_demo_translation_is_aligned_and_translated():
    import unicodedata

    source = LocalSource(DEMO_DATA)
    full = sorted(p.name.removeprefix("test_full_") for p in DEMO_DATA.glob("test_full_*"))
    assert full == ["ar", "de", "es", "fr", "hi", "it", "ja", "ru", "zh"]
    scripts = {"ar": ("ARABIC",), "hi": ("DEVANAGARI",), "ja": ("HIRAGANA", "KATAKANA"), "ru": ("CYRILLIC",),
               "zh": ("CJK",)}

    def in_script(text: str, names: tuple[str, ...]) -> bool:
        return any(unicodedata.name(ch, "").startswith(names) for ch in text)

    for subject in source.subjects("test"):
        for split in ("dev", "test"):
            english = source.load(subject, split)
            for lang in full:
                translated = source.load(subject, split, f"full_{lang}")
                assert [t.answer for t in translated] == [e.answer for e in english], (lang, subject, split)
                assert all(t.question != e.question for t, e in zip(translated, english))
                if lang in scripts:  # written in the language's own script
                    assert all(in_script(t.question, scripts[lang]) for t in translated), (lang, subject, split)


def test_mixup_names_and_sweeps():
    from crossknow.data.variants import mixup_variant, sweep_mixup
    from crossknow.evaluate import expand_configs

    assert mixup_variant(["it", "es", "fr", "de"]) == "mixup"
    assert mixup_variant(["zh", "ru", "ar", "hi"]) == "mixup_ar-hi-ru-zh"
    with pytest.raises(ValueError, match="mixup needs English and four other languages"):
        mixup_variant(["zh", "ru", "en", "ar"])
    assert sweep_mixup(["fr"]) == "mixup" and sweep_mixup(["zh", "ru"]) is None
    assert sweep_mixup(["zh", "ru", "ar", "hi", "ja"]) == "mixup_ar-hi-ja-ru-zh"
    names = [c.name for c in expand_configs(["all"], ["zh", "ru", "ar", "hi"], ["same"])]
    assert names[:2] == ["en", "question_zh"] and names[-1] == "mixup_ar-hi-ru-zh" and len(names) == 1 + 28 + 1


def fake_full(tmp_path, languages):
    """English test files of two demo subjects and a tagged stand-in 'translation' per language."""
    import json

    from crossknow.data.mmlu import write_mmlu_csv

    source = LocalSource(DEMO_DATA)
    for subject in ("management", "world_religions"):
        english = source.load(subject, "test")
        write_mmlu_csv(tmp_path / "test" / f"{subject}_test.csv", english)
        for lang in languages:
            write_mmlu_csv(tmp_path / f"test_full_{lang}" / f"{subject}_test.csv",
                           [Item(f"[{lang}] {e.question}", tuple(f"[{lang}] {c}" for c in e.choices), e.answer)
                            for e in english])
    for lang in languages:
        tags = {"management": ["CS", "CA", None] + ["CA"] * 7, "world_religions": ["CS"] * 10}
        (tmp_path / f"test_full_{lang}" / "culture.json").write_text(json.dumps({"subjects": tags}))


def test_every_mode_and_mixup_over_a_non_default_language_set(tmp_path):
    import json

    from crossknow.data.mmlu import open_source

    languages = ["zh", "ru", "ar", "hi", "ja"]
    fake_full(tmp_path, languages)
    written = build_variant_folders(tmp_path, languages, splits=["test"], mixup_languages=["zh", "ru", "ar", "hi"])
    assert sorted(f.name for f in written) == sorted(
        [f"test_{m}_{lang}" for m in ("question", "options", "gt", "gt_question", "onewrong", "threewrong")
         for lang in languages] + ["test_mixup_ar-hi-ru-zh"])
    source = open_source(str(tmp_path))
    english = source.load("management", "test")
    gt_ja = source.load("management", "test", "gt_ja")
    for row, e in zip(gt_ja, english):
        assert row.question == e.question and row.choices[e.answer] == f"[ja] {e.choices[e.answer]}"
    mixup = tmp_path / "test_mixup_ar-hi-ru-zh"
    assert json.loads((mixup / "manifest.json").read_text())["languages"] == ["en", "ar", "hi", "ru", "zh"]
    log = [json.loads(line) for line in (mixup / "languages.jsonl").read_text().splitlines()]
    assert len(log) == 20
    for entry in log:
        assert sorted(entry["languages"].values()) == ["ar", "en", "hi", "ru", "zh"]  # never ja
    rows = source.load("management", "test", "mixup_ar-hi-ru-zh")
    first = log[0]["languages"]
    assert rows[0].question.startswith(f"[{first['question']}]") or first["question"] == "en"
    # The culture tags follow the rows into every variant, and reach the items.
    assert [i.culture for i in rows[:3]] == ["CS", "CA", None]
    assert {i.culture for i in source.load("world_religions", "test", "threewrong_zh")} == {"CS"}


def test_disagreeing_culture_tags_are_refused(tmp_path):
    import json

    fake_full(tmp_path, ["zh", "ru", "ar", "hi"])
    path = tmp_path / "test_full_ru" / "culture.json"
    tags = json.loads(path.read_text())
    tags["subjects"]["management"][4] = "CS"
    path.write_text(json.dumps(tags))
    with pytest.raises(ValueError, match=r"management row 5: the culture tags of ar, hi, ru, zh differ: \['CA', 'CS'\]"):
        build_variant_folders(tmp_path, ["zh", "ru", "ar", "hi"], splits=["test"])
