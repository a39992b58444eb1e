"""report --plot: the figures exist as PNG and SVG, and every plotted number equals the results JSON."""

import json

import pytest

pytest.importorskip("matplotlib", reason="the plots extra (matplotlib) is not installed")

from crossknow.analysis import plots  # noqa: E402
from crossknow.analysis.report import main as report_main  # noqa: E402
from crossknow.data.variants import MODES  # noqa: E402

LANGS = ["zh", "ru", "ar"]


def write_result(prefix, variant: str, accuracy: float, n: int = 20, culture=None, name=None, dev=None):
    """A result file (the schema's fields that the figures read) and its records."""
    from crossknow.evaluate import variant_parts

    name = name or variant
    test = "" if variant == "en" else variant
    mode, lang = variant_parts(test)
    result = {"schema_version": 1, "task": "mmlu", "records": name,
              "config": {"name": name, "test_variant": test, "dev_variant": test if dev is None else dev,
                         "test_mode": mode, "test_language": lang, "shots": 0 if dev is None else 5,
                         "infer_mode": "logits"},
              "n": n, "ci95": [accuracy - 0.1, accuracy + 0.05]}
    correct = [i < round(accuracy * n) for i in range(n)]
    result["weighted_accuracy"] = sum(correct) / n  # a result is served only with its records' numbers
    (prefix / f"result_{name}.json").write_text(json.dumps(result))
    tags = culture or [None] * n
    records = [{"subject": "s", "index": i, "correct": c, **({"culture": t} if t else {})}
               for i, (c, t) in enumerate(zip(correct, tags))]
    (prefix / name).mkdir(exist_ok=True)
    (prefix / name / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def run_dir(tmp_path):
    prefix = tmp_path / "results" / "model_0shot"
    prefix.mkdir(parents=True)
    culture = ["CS", "CA"] * 10
    write_result(prefix, "en", 0.6, culture=culture)
    for i, lang in enumerate(LANGS):
        for j, mode in enumerate(MODES):
            write_result(prefix, f"{mode}_{lang}", 0.2 + 0.05 * i + 0.05 * j, culture=culture)  # records agree
    write_result(prefix, "mixup_ar-hi-ru-zh", 0.35)
    write_result(prefix, "full_zh", 0.99, name="full_zh_en_demo", dev="")  # English demos: not in the figures
    return prefix


def bars(ax) -> list:
    """The drawn bars (not the English interval band)."""
    from matplotlib.container import BarContainer

    return [bar for container in ax.containers if isinstance(container, BarContainer) for bar in container]


def result(prefix, name):
    return json.loads((prefix / f"result_{name}.json").read_text())


def test_report_plot_writes_png_svg_and_values_equal_to_the_json(run_dir, capsys):
    report_main([str(run_dir), "--plot"])
    figures = run_dir / "figures"
    for name in ("accuracy_by_variant", "gap_by_language", "culture_gap"):
        for ext in ("png", "svg"):
            assert (figures / f"{name}.{ext}").stat().st_size > 1000
    assert f"wrote {figures / 'accuracy_by_variant.png'}" in capsys.readouterr().out
    values = json.loads((figures / "values.json").read_text())
    english = result(run_dir, "en")["weighted_accuracy"]
    for lang in LANGS:
        for mode in MODES:
            assert values["accuracy_by_variant"][f"{mode}_{lang}"] == pytest.approx(
                100 * result(run_dir, f"{mode}_{lang}")["weighted_accuracy"])
        assert values["gap_by_language"]["full"][lang] == pytest.approx(
            100 * (result(run_dir, f"full_{lang}")["weighted_accuracy"] - english))
    assert values["accuracy_by_variant"]["mixup_ar-hi-ru-zh"] == pytest.approx(35.0)
    assert "full_zh_en_demo" not in values["accuracy_by_variant"]
    assert list(values["gap_by_language"]["full"]) == ["zh", "ru", "ar"]  # sorted, largest gap first


def cells_of(folder):
    return plots.mmlu_cells(plots.results_in(folder)["mmlu"], folder)


def test_the_drawn_bars_are_the_results(run_dir):
    cells = cells_of(run_dir)
    fig, values = plots.plot_accuracy(cells)
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 9) for p in bars(ax))
    expected = sorted(round(100 * result(run_dir, v)["weighted_accuracy"], 9) for v in cells if v != "en")
    assert heights == expected
    english_line = [line for line in ax.get_lines() if line.get_linestyle() == "--"][0]
    assert english_line.get_ydata()[0] == pytest.approx(60.0)

    fig, gaps = plots.plot_gap_by_language(cells)
    widths = {label.get_text(): patch.get_width()
              for label, patch in zip(fig.axes[0].get_yticklabels(), bars(fig.axes[0]))}
    assert widths == pytest.approx({lang: 100 * (result(run_dir, f"full_{lang}")["weighted_accuracy"] - 0.6)
                                  for lang in LANGS})


def test_culture_gap_is_computed_from_the_records(run_dir):
    cells = cells_of(run_dir)
    english = plots.culture_accuracy(run_dir / "en")
    # en: 12 of 20 correct, the first 12 rows: CS rows 0,2,..,10 (6/10), CA rows 1,..,11 (6/10)
    assert english == {"CA": 0.6, "CS": 0.6}
    fig, gaps = plots.plot_culture_gap(cells)
    zh = plots.culture_accuracy(run_dir / "full_zh")
    assert gaps["zh"] == pytest.approx({"CS": 100 * (zh["CS"] - 0.6), "CA": 100 * (zh["CA"] - 0.6)})
    heights = sorted(round(p.get_height(), 9) for p in bars(fig.axes[0]))
    assert heights == sorted(round(v, 9) for lang in LANGS for v in gaps[lang].values())


def test_gap_closed_against_a_baseline(run_dir, tmp_path):
    base = tmp_path / "base_0shot"
    base.mkdir()
    write_result(base, "en", 0.6)
    for lang in LANGS:
        for mode in MODES:
            write_result(base, f"{mode}_{lang}", 0.1)
    report_main([str(run_dir), "--plot", "--baseline", str(base)])
    values = json.loads((run_dir / "figures" / "values.json").read_text())["gap_closed"]
    tuned_full = sum(result(run_dir, f"full_{lang}")["weighted_accuracy"] for lang in LANGS) / 3
    assert values["base"]["full"] == pytest.approx(-50.0)
    assert values["fine_tuned"]["full"] == pytest.approx(100 * (tuned_full - 0.6))
    assert values["closed"]["full"] == pytest.approx(100 * (tuned_full - 0.6) + 50.0)
    assert (run_dir / "figures" / "gap_closed.svg").exists()


def test_hp_figure(tmp_path):
    folder = tmp_path / "hp" / "model" / "none"
    folder.mkdir(parents=True)
    for lang, acc in (("en", 0.8), ("fr", 0.5), ("de", 0.4)):
        (folder / f"result_{lang}.json").write_text(json.dumps(
            {"schema_version": 1, "task": "hp", "records": lang, "config": {"language": lang, "variant": "none"},
             "n": 30, "accuracy": acc, "ci95": [acc - 0.1, acc + 0.1]}))
    written = plots.plot_folder(folder)
    assert sorted(p.name for p in written) == ["hp_by_language.png", "hp_by_language.svg", "values.json"]
    values = json.loads((folder / "figures" / "values.json").read_text())["hp_by_language"]
    assert values == pytest.approx({"fr": 50.0, "de": 40.0, "en": 80.0})


def test_paired_gaps_and_transfer_figure(run_dir, capsys):
    # records: question i is right when i < accuracy * 20, in every language: English (12 right) and full_zh
    # (0.2 + 2 * 0.05: 6 right) -> gap -30 points, transfer 6/12 with chance 30%
    report_main([str(run_dir), "--plot"])
    values = json.loads((run_dir / "figures" / "values.json").read_text())
    assert values["gap_by_language"]["interval"] == "paired bootstrap"
    assert values["gap_by_language"]["full"]["zh"] == pytest.approx(-30.0)
    low, high = values["gap_by_language"]["full_ci95"]["zh"]
    assert low <= -30.0 <= high and high - low < 50
    assert values["transfer"]["full"]["zh"]["transfer"] == pytest.approx(50.0)
    assert values["transfer"]["full"]["zh"]["chance"] == pytest.approx(30.0)
    assert "full [English demos]" not in values["transfer"]  # only the plain sweep is drawn
    assert (run_dir / "figures" / "transfer.png").stat().st_size > 1000


def test_a_language_on_other_questions_is_not_drawn_as_a_gap(run_dir):
    records = run_dir / "full_ru" / "s.jsonl"
    lines = records.read_text().splitlines()
    records.write_text("\n".join(lines[:-1]) + "\n")  # 19 of 20 rows: 1 of 20 English rows unpaired (> 1%)
    result_file = run_dir / "result_full_ru.json"  # a result that is its records' own (else it is not served)
    result = json.loads(result_file.read_text())
    kept = [json.loads(line)["correct"] for line in lines[:-1]]
    result.update(n=len(kept), weighted_accuracy=sum(kept) / len(kept))
    result_file.write_text(json.dumps(result))
    report_main([str(run_dir), "--plot"])
    values = json.loads((run_dir / "figures" / "values.json").read_text())
    assert "ru" not in values["gap_by_language"]["full"] and values["gap_by_language"]["not_paired"] == ["full_ru"]


def test_culture_gap_has_n_and_a_paired_interval(run_dir):
    # en right on rows 0-11, full_zh (0.3) on rows 0-5: CS rows 0,2,..,18 -> en 6/10, zh 3/10
    intervals = plots.culture_intervals(cells_of(run_dir))
    cs = intervals["zh"]["CS"]
    assert (cs["n"], cs["gap"]) == (10, pytest.approx(-30.0))
    assert cs["ci95"][0] <= -30.0 <= cs["ci95"][1] <= 0.0  # zh is never right where en is wrong


def test_the_culture_gap_figure_does_not_need_paired_results(run_dir):
    """Drawn from the culture tags alone (a merge had tied it to the transfer figure)."""
    written = plots.plot_folder(run_dir, pairs=None)
    assert run_dir / "figures" / "culture_gap.png" in written
    assert "transfer" not in json.loads((run_dir / "figures" / "values.json").read_text())
