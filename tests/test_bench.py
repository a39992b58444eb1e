"""The benchmark script runs every method on a tiny model, checks agreement and counts tokens run."""

from conftest import ROOT


def test_bench_methods_agree_and_reuse_runs_fewer_tokens(bpe_model_dir, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT / "MMLU"))
    import bench

    rows = bench.main(["--model", str(bpe_model_dir), "--configs", "en", "full_de", "-k", "2", "--limit", "4",
                       "--subjects", "management", "world_religions", "--batch_size", "3",
                       "--methods", "paper", "engine_full", "engine_cache", "engine"])
    by_method = {row["method"]: row for row in rows}
    assert set(by_method) == {"paper", "engine_full", "engine_cache", "engine"}
    assert all(row["questions"] == 16 and len(row["all_seconds"]) == 1 for row in rows)
    full = by_method["paper"]["tokens_per_question"]
    assert by_method["paper"]["tokens_run_per_question"] == by_method["engine_full"]["tokens_run_per_question"] == full
    assert by_method["engine"]["tokens_run_per_question"] == by_method["engine_cache"]["tokens_run_per_question"]
    assert by_method["engine"]["tokens_run_per_question"] < full / 2
    out = capsys.readouterr().out
    assert "engine vs paper: same prediction on 16/16 questions" in out


def test_repeated_rounds_report_the_median_run(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "MMLU"))
    import bench

    runs = [{"seconds": 9.0, "probs": "slow"}, {"seconds": 4.0, "probs": "fast"}, {"seconds": 5.0, "probs": "mid"}]
    assert bench.statistics_row(runs) == {"seconds": 5.0, "probs": "mid", "all_seconds": [9.0, 4.0, 5.0]}
