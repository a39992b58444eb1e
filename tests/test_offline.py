"""Without the hub: one line naming what could not be reached, in seconds (not 24 s of retries);
a cached hub model loads from the cache; a run that fails before its first write leaves no folder."""

import os
import subprocess
import sys
import time

import pytest

from conftest import DEMO_DATA, ROOT, load_script
from crossknow.core import hub
from crossknow.core.io import folder_lock
from crossknow.models.hf_backend import HFBackend

mmlu_eval = load_script("MMLU/eval.py")


def eval_without_hub(tmp_path, **env) -> tuple[subprocess.CompletedProcess, float]:
    environment = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_ENDPOINT")}
    environment.update({"PYTHONPATH": str(ROOT), "HF_HUB_CACHE": str(tmp_path / "cache"), **env})
    start = time.monotonic()
    out = subprocess.run([sys.executable, str(ROOT / "MMLU/eval.py"), "--model", "nobody/no-model", "--limit", "1",
                          "--variants", "en", "--save_dir", str(tmp_path / "results")], env=environment,
                         capture_output=True, text=True, timeout=120)
    return out, time.monotonic() - start


def test_hf_hub_offline_is_honoured_with_one_line(tmp_path):
    out, _ = eval_without_hub(tmp_path, HF_HUB_OFFLINE="1")
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"error: nobody/no-model: not in the local hub cache ({tmp_path / 'cache'}) and HF_HUB_OFFLINE is set; "
        "download it where there is internet (hf download nobody/no-model) and copy the cache here, or pass "
        "its local folder to --model"]
    assert not (tmp_path / "results").exists()


def test_an_unreachable_hub_is_detected_once_and_fast(tmp_path):
    out, seconds = eval_without_hub(tmp_path, HF_ENDPOINT="http://127.0.0.1:9")  # the discard port: refused
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"error: nobody/no-model: not in the local hub cache ({tmp_path / 'cache'}) and http://127.0.0.1:9 cannot "
        "be reached; download it where there is internet (hf download nobody/no-model) and copy the cache here, "
        "or pass its local folder to --model"]
    assert seconds < 20  # transformers' retries alone take about 24 s


def test_a_cached_model_loads_from_the_cache_when_the_hub_is_unreachable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda: False)
    monkeypatch.setattr(hub, "is_cached", lambda repo_id: repo_id == "org/cached")
    assert hub.hub_files_only("org/cached") is True
    with pytest.raises(hub.HubUnreachable, match="^org/other: not in the local hub cache"):
        hub.hub_files_only("org/other")
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    assert hub.hub_files_only("org/other") is False


def test_a_failed_run_leaves_no_new_folder(tmp_path):
    with pytest.raises(RuntimeError):
        with folder_lock(tmp_path / "a" / "b"):
            (tmp_path / "a" / "b" / "run").mkdir()
            (tmp_path / "a" / "b" / "run" / "settings.json").write_text("{}")
            raise RuntimeError("failed before its first write")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_run_keeps_what_was_written_and_folders_that_existed(tmp_path):
    with pytest.raises(RuntimeError):
        with folder_lock(tmp_path / "new"):
            (tmp_path / "new" / "management.jsonl").write_text("{}\n")
            raise RuntimeError("failed after a write")
    assert (tmp_path / "new" / "management.jsonl").is_file()
    (tmp_path / "old").mkdir()
    with pytest.raises(RuntimeError):
        with folder_lock(tmp_path / "old"):
            raise RuntimeError("failed at once")
    assert (tmp_path / "old").is_dir()


def test_mmlu_eval_that_fails_scoring_its_first_subject_leaves_no_folder(bpe_model_dir, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(HFBackend, "score_letters", broken)
    with pytest.raises(RuntimeError, match="scoring failed"):
        mmlu_eval.main(["--model", str(bpe_model_dir), "--data_dir", str(DEMO_DATA), "--save_dir",
                        str(tmp_path / "results"), "--subjects", "management", "--limit", "1", "--variants", "en"])
    assert not (tmp_path / "results").exists()
