"""The language table: every MMMLU, Global-MMLU and FLoRes-200 language, codes checked against the
tokenizers' own lists, and unknown codes refused with the list of known ones."""

import argparse
from pathlib import Path

import pytest

from crossknow.core.cli import add_languages_argument
from crossknow.core.languages import LANGUAGES, PAPER_LANGUAGES, get_language, mmmlu_language

# The 42 configurations of CohereForAI/Global-MMLU and the 14 locales of openai/MMMLU, as their
# dataset cards list them.
GLOBAL_MMLU = ("am ar bn cs de el en es fa fil fr ha he hi id ig it ja ko ky lt mg ms ne nl ny pl pt ro ru si sn "
               "so sr sv sw te tr uk vi yo zh").split()
MMMLU = "AR_XY BN_BD DE_DE ES_LA FR_FR HI_IN ID_ID IT_IT JA_JP KO_KR PT_BR SW_KE YO_NG ZH_CN".split()


def test_table_covers_global_mmlu_and_mmmlu():
    assert len(GLOBAL_MMLU) == 42 and len(MMMLU) == 14
    assert sorted(lang.global_mmlu for lang in LANGUAGES.values() if lang.global_mmlu) == sorted(GLOBAL_MMLU)
    assert sorted(lang.mmmlu for lang in LANGUAGES.values() if lang.mmmlu) == sorted(MMMLU)
    for config in GLOBAL_MMLU:
        assert get_language(config).global_mmlu == config
    assert mmmlu_language("FR-FR").iso == "fr" and mmmlu_language("ZH_CN").iso == "zh"
    with pytest.raises(ValueError, match="unknown MMMLU locale 'XX-YY'; known: AR_XY, BN_BD"):
        mmmlu_language("XX-YY")


def test_table_covers_flores200_and_the_model_codes():
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES as M2M
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES as NLLB

    assert len(LANGUAGES) == 204 and len({lang.flores for lang in LANGUAGES.values()}) == 204
    nllb = [lang.nllb for lang in LANGUAGES.values() if lang.nllb]
    assert sorted(nllb) == sorted(NLLB)  # every NLLB-200 token, once
    m2m = {lang.m2m for lang in LANGUAGES.values() if lang.m2m}
    assert m2m <= set(M2M["m2m100"]) and set(M2M["m2m100"]) - m2m == {"br", "fy"}  # not in FLoRes-200
    for lang in LANGUAGES.values():
        language, script = lang.flores.split("_")
        assert len(language) == 3 and len(script) == 4 and lang.script == script


def test_codes_names_and_scripts():
    assert PAPER_LANGUAGES == ["de", "fr", "es", "it"]
    zh = get_language("zh")
    assert (zh.name, zh.flores, zh.nllb, zh.m2m, zh.script) == ("Chinese (Simplified)", "zho_Hans", "zho_Hans",
                                                                 "zh", "Hans")
    assert get_language("zho_Hant").iso == "zh-Hant"  # a FLoRes-200 code works too
    assert get_language("fil") is get_language("tl")  # Global-MMLU's name for Tagalog
    assert get_language("ky").m2m is None
    assert get_language("fr").hp_instruction.startswith("Vous trouverez")
    assert get_language("hi").hp_instruction is None
    assert [get_language(c).script for c in ("ar", "hi", "ru", "ja", "el")] == ["Arab", "Deva", "Cyrl", "Jpan",
                                                                              "Grek"]


def test_unknown_code_is_a_usage_error_listing_the_known_ones(capsys):
    parser = argparse.ArgumentParser(prog="tool")
    add_languages_argument(parser, PAPER_LANGUAGES, "languages", words=("all",))
    assert parser.parse_args([]).languages == PAPER_LANGUAGES
    assert parser.parse_args(["--langs", "zh", "fil", "all"]).languages == ["zh", "tl", "all"]
    assert parser.parse_args(["--lang", "zho_Hant"]).languages == ["zh-Hant"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--languages", "fr", "xx"])
    err = capsys.readouterr().err
    assert "tool: error: argument --languages/--langs: unknown language code 'xx'; known: ace-Arab, ace," in err
    assert ", zh, zh-Hant, ms, zu" in err
    with pytest.raises(ValueError, match=r"unknown language code 'klingon'; known: .*\bsw\b"):
        get_language("klingon")


DEMO = Path(__file__).resolve().parents[1] / "MMLU" / "data" / "demo"  # an existing data folder


@pytest.mark.parametrize("script,argv", [
    ("MMLU/eval.py", ["--languages", "xx"]),
    ("MMLU/build_variants.py", ["--data_dir", str(DEMO), "--languages", "xx"]),
    ("MMLU/translate.py", ["--data_dir", str(DEMO), "--languages", "xx"]),
    ("HP/evaluate.py", ["--langs", "xx"]),
    ("HP/evaluate.py", ["--lang", "xx"]),
    ("Translation/translate.py", ["--languages", "xx"]),
    ("FT/make_mixed_corpus.py", ["--out_dir", "o", "--languages", "xx"]),
])
def test_every_task_cli_refuses_an_unknown_language(script, argv, capsys):
    from conftest import load_script

    module = load_script(script)
    entry = getattr(module, "parse_args", None) or module.main
    with pytest.raises(SystemExit) as exit_info:
        entry(argv)
    assert exit_info.value.code == 2
    assert "unknown language code 'xx'; known: ace-Arab" in capsys.readouterr().err


def test_a_seq2seq_model_without_a_language_is_refused():
    from crossknow.models.translation import HFSeq2SeqTranslator

    translator = object.__new__(HFSeq2SeqTranslator)  # only the code lookup is under test
    translator.model, translator.family = "facebook/m2m100_418M", "m2m100"
    assert translator.codes("en", "sw") == ("en", "sw")
    with pytest.raises(ValueError, match=r"m2m100_418M: m2m100 has no code for language 'ky' \(Kyrgyz\)"):
        translator.codes("en", "ky")
    translator.family = "nllb"
    assert translator.codes("zh", "fil") == ("zho_Hans", "tgl_Latn")
    with pytest.raises(ValueError, match="nllb has no code for language 'ar-Latn'"):
        translator.codes("en", "ar-Latn")


def test_flores_files_by_short_or_flores200_name(tmp_path):
    from crossknow.core.languages import flores_file

    (tmp_path / "fr.devtest").write_text("a\n")
    (tmp_path / "zho_Hans.devtest").write_text("b\n")
    assert flores_file(tmp_path, "fr") == tmp_path / "fr.devtest"
    assert flores_file(tmp_path, "zh") == tmp_path / "zho_Hans.devtest"
    assert flores_file(tmp_path, "sw") == tmp_path / "sw.devtest"  # neither: the short name, for the error
