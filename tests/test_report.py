"""The configs x languages table."""

import json

from crossknow.report import format_table, load_results, main, split_name


def result(acc, n=10):
    return {"weighted_accuracy": acc, "n": n}


def test_split_name():
    assert split_name("full_fr_en_demo") == ("full_fr", "_en_demo")
    assert split_name("mixup_256_token") == ("mixup_256", "_token")
    assert split_name("en") == ("en", "")


def test_table_rows_columns_and_gaps():
    table = format_table({"en": result(0.5), "full_de": result(0.4), "full_fr": result(0.45),
                          "gt_de": result(0.55), "mixup": result(0.3), "full_de_en_demo": result(0.42)})
    lines = table.splitlines()
    assert lines[0] == "English: 50.0 (n=10)"
    assert lines[1].split() == ["variant", "de", "fr"]
    assert lines[2].split() == ["full", "40.0", "(-10.0)", "45.0", "(-5.0)"]
    assert lines[3].split() == ["gt", "55.0", "(+5.0)", "-"]
    assert lines[4].split() == ["mixup", "30.0", "(-20.0)"]
    assert lines[5] == "[English demos]"
    assert "42.0 (-8.0)" in lines[-1]


def test_cli_reads_result_files(tmp_path, capsys):
    prefix = tmp_path / "model_0shot"
    prefix.mkdir()
    for name, acc in (("en", 0.6), ("question_it", 0.5)):
        (prefix / f"result_{name}.json").write_text(json.dumps(result(acc)))
    assert set(load_results(prefix)) == {"en", "question_it"}
    main([str(tmp_path), "--markdown"])
    out = capsys.readouterr().out
    assert "| variant | it |" in out and "| question | 50.0 (-10.0) |" in out
