"""FLOP counting, device peaks and profile kinds behind MMLU/bench.py's MFU; the bench's dtype and
full-set modes on a tiny model."""

import pytest

from conftest import ROOT
from crossknow.models.throughput import (
    Forward,
    ModelShape,
    forward_flops,
    model_shape,
    profile_kind,
    profile_summary,
    table_peak_tflops,
)

SHAPE = ModelShape(non_embedding_params=1000, vocab_size=50, hidden_size=8, layers=2, attention_dim=4)


def test_flops_of_one_whole_prompt_by_hand():
    # 3 tokens, no cache, logits at the last position: 2*1000*3 + 2*50*8*1 + 4*2*4*(1+2+3)
    assert forward_flops(SHAPE, [Forward(3)]) == 6000 + 800 + 192


def test_flops_after_a_cached_prefix_count_the_prefix_keys():
    # 2 tokens after 5 cached: keys attended 6 + 7 = 13; the prefix itself (5 tokens) once: 15 keys.
    with_reuse = forward_flops(SHAPE, [Forward(5), Forward(2, context=5)])
    assert with_reuse == (2 * 1000 * 5 + 800 + 32 * 15) + (2 * 1000 * 2 + 800 + 32 * 13)
    # The paper's method: the whole 7-token prompt, logits at every position.
    assert forward_flops(SHAPE, [Forward(7, logit_positions=7)]) == 2 * 1000 * 7 + 800 * 7 + 32 * 28


def test_peak_table_matches_the_specific_name_first():
    assert table_peak_tflops("NVIDIA H100 PCIe", "fp16") == ("H100 PCIe", 756.0)
    assert table_peak_tflops("NVIDIA H100 80GB HBM3", "torch.bfloat16") == ("H100", 989.4)
    assert table_peak_tflops("NVIDIA H200", "float32") == ("H200", 66.9)
    assert table_peak_tflops("NVIDIA A100-SXM4-80GB", "fp16") == ("A100", 312.0)
    assert table_peak_tflops("NVIDIA Tesla V100", "bf16") is None  # no bf16 on V100
    assert table_peak_tflops("Some Future GPU", "fp16") is None
    # whole model names only: an L40 is not an L4, an A10G not an A10, an H200 NVL not an H200 SXM
    assert table_peak_tflops("NVIDIA L40", "fp16") == ("L40", 181.0)
    assert table_peak_tflops("NVIDIA L4", "fp16") == ("L4", 121.0)
    assert table_peak_tflops("NVIDIA A10G", "fp16") is None
    assert table_peak_tflops("NVIDIA H200 NVL", "bf16") == ("H200 NVL", 835.0)


def test_profile_kinds_and_shares():
    assert profile_kind("aten::_scaled_dot_product_flash_attention_for_cpu") == "attention"
    assert profile_kind("sm90_xmma_gemm_f16f16_f16f32") == "matmul"
    assert profile_kind("aten::mm") == "matmul"
    assert profile_kind("aten::silu") == "other"

    class Event:
        def __init__(self, key, micros):
            self.key, self.self_device_time_total = key, micros

    summary = profile_summary([Event("ampere_fp16_gemm", 600_000), Event("flash_fwd_kernel", 200_000),
                               Event("elementwise_kernel", 200_000)], wall_seconds=2.0, on_cuda=True)
    assert summary["share_by_kind"] == {"matmul": 0.6, "attention": 0.2, "other": 0.2}
    assert summary["idle_share"] == 0.5  # 1 s of kernels in 2 s of wall clock


@pytest.mark.parametrize("tie", [True, False])
def test_model_shape_leaves_out_embeddings_once(tie):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tie)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    shape = model_shape(model)
    layers = sum(p.numel() for p in model.model.layers.parameters()) + model.model.norm.weight.numel()
    assert shape.non_embedding_params == layers
    assert (shape.vocab_size, shape.hidden_size, shape.layers, shape.attention_dim) == (64, 16, 2, 16)


def test_bench_reports_each_dtype_with_agreement_and_mfu(bpe_model_dir, monkeypatch, capsys, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "MMLU"))
    import bench

    out_json = tmp_path / "rows.json"
    rows = bench.main(["--model", str(bpe_model_dir), "--configs", "en", "-k", "1", "--limit", "3",
                       "--subjects", "management", "--methods", "engine", "--dtype", "fp32", "bf16",
                       "--peak_tflops", "1.5", "--output_json", str(out_json)])
    assert [r["label"] for r in rows] == ["engine/fp32", "engine/bf16"]
    assert [r["dtype"] for r in rows] == ["fp32", "bf16"]
    for row in rows:
        assert row["mfu"] == pytest.approx(row["flops"] / row["seconds"] / 1e12 / 1.5)
        assert row["tokens_per_second"] == pytest.approx(row["tokens_run"] / row["seconds"])
        assert row["warmup_seconds"] > 0
    out = capsys.readouterr().out
    assert "engine/bf16 vs engine/fp32: same prediction on" in out
    assert "peak TFLOP/s (--peak_tflops): bf16 1.50, fp32 1.50" in out
    assert out_json.exists() and "probs" not in out_json.read_text()


def test_full_set_refuses_a_limit(capsys):
    import sys

    sys.path.insert(0, str(ROOT / "MMLU"))
    import bench

    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(["--full_set", "--limit", "5"])
    assert exit_info.value.code == 2
    assert "--full_set scores every question of every subject" in capsys.readouterr().err
    assert bench.parse_args(["--full_set"]).methods == ["engine"]


def test_gpu_script_runs_the_full_set_both_shots_then_the_profiled_slice(tmp_path):
    import os
    import subprocess

    stubs, log = tmp_path / "stubs", tmp_path / "commands.log"
    stubs.mkdir()
    for program in ("python3", "nvidia-smi"):
        (stubs / program).write_text('#!/usr/bin/env bash\necho "$(basename "$0") $*" >> "$STUB_LOG"\n')
        (stubs / program).chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(log),
           "OUT": str(tmp_path / "out"), "DATA_DIR": "MMLU_DIR"}
    done = subprocess.run(["bash", str(ROOT / "MMLU" / "bench_gpu.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    bench_runs = [line.split()[1:] for line in log.read_text().splitlines() if "MMLU/bench.py" in line]
    common = ["MMLU/bench.py", "--random_init", "llama3-8b", "--model", "smollm2", "--data_dir", "MMLU_DIR",
              "--configs", "en", "--dtype", "fp16"]
    out = tmp_path / "out"
    assert bench_runs == [
        common + ["-k", "5", "--full_set", "--warmup_questions", "256", "--output_json", f"{out}/full_5shot.json"],
        common + ["-k", "0", "--full_set", "--warmup_questions", "256", "--output_json", f"{out}/full_0shot.json"],
        common + ["-k", "5", "--subjects", "high_school_geography", "management", "world_religions",
                  "conceptual_physics", "abstract_algebra", "--limit", "100", "--methods", "paper", "engine",
                  "--profile", f"{out}/profile", "--output_json", f"{out}/slice_5shot.json"],
    ]
