"""Hub datasets without the hub: HF_HUB_OFFLINE honoured, an unreachable hub detected once, the
local datasets cache used (datasets in offline mode), and otherwise one line in seconds naming the
dataset and how to provide it locally. Never reaches the network."""

import argparse
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT, load_script
from crossknow.core import hub
from crossknow.data.hp import load_quiz

DEMO_QUIZ = ROOT / "HP" / "data" / "demo-quiz"


def script_without_hub(tmp_path, script: str, args: list[str], **env) -> tuple[subprocess.CompletedProcess, float]:
    environment = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_ENDPOINT",
                                                                     "HF_DATASETS_OFFLINE")}
    environment.update({"PYTHONPATH": str(ROOT), "HF_DATASETS_CACHE": str(tmp_path / "datasets"), **env})
    start = time.monotonic()
    out = subprocess.run([sys.executable, str(ROOT / script), *args], env=environment, capture_output=True,
                         text=True, timeout=120)
    return out, time.monotonic() - start


def test_eval_on_a_hub_dataset_with_hf_hub_offline_stops_with_one_line(tmp_path):
    out, seconds = script_without_hub(
        tmp_path, "MMLU/eval.py", ["--data_dir", "cais/mmlu", "--subjects", "management", "--limit", "1",
                                   "--variants", "en", "--save_dir", str(tmp_path / "results")], HF_HUB_OFFLINE="1")
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"error: hub dataset cais/mmlu: not in the local datasets cache ({tmp_path / 'datasets'}) and "
        "HF_HUB_OFFLINE is set; load it once where there is internet and copy the cache here, or pass a folder "
        "in the paper's layout (MMLU/fetch_data.py writes one) to --data_dir"]
    assert not (tmp_path / "results").exists()
    assert seconds < 20


def test_fetch_data_with_an_unreachable_hub_stops_with_one_line(tmp_path):
    out, seconds = script_without_hub(
        tmp_path, "MMLU/fetch_data.py", ["--out_dir", str(tmp_path / "full"), "--subjects", "management"],
        HF_ENDPOINT="http://127.0.0.1:9")  # the discard port: refused at once
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        f"error: hub dataset cais/mmlu: not in the local datasets cache ({tmp_path / 'datasets'}) and "
        "http://127.0.0.1:9 cannot be reached; load it once where there is internet and copy the cache here, "
        "or pass a DatasetDict saved with save_to_disk to --source")
    assert not (tmp_path / "full").exists()
    assert seconds < 20  # datasets' own retries take far longer


def test_the_hp_quiz_from_an_unreachable_hub_names_the_local_folder_flag(tmp_path, monkeypatch):
    import datasets.config

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(hub, "hub_reachable", lambda: False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path)
    with pytest.raises(hub.HubUnreachable) as error:
        load_quiz("someone/hp-quiz", ["en"])
    assert str(error.value) == (
        f"hub dataset someone/hp-quiz: not in the local datasets cache ({tmp_path}) and http://127.0.0.1:9 cannot "
        "be reached; load it once where there is internet and copy the cache here, or pass a local folder of "
        "quiz files to --data")


@pytest.mark.parametrize("reachable, offline_setting, loads_offline", [
    (False, "", True), (True, "1", True), (True, "", False)])
def test_datasets_load_offline_exactly_when_the_hub_cannot_be_used(reachable, offline_setting, loads_offline,
                                                                    monkeypatch):
    """Offline mode is what makes datasets serve its local cache without a request; it is set for
    the load only."""
    import datasets
    from huggingface_hub import constants

    seen = []

    def fake_load_dataset(name, *args, **kwargs):
        seen.append((name, args, kwargs, datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE))
        return "rows"

    monkeypatch.setenv("HF_HUB_OFFLINE", offline_setting)
    monkeypatch.setattr(hub, "hub_reachable", lambda: reachable)
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    assert hub.load_hub_dataset("org/set", "cfg", split="test", provide_locally="x") == "rows"
    assert seen == [("org/set", ("cfg",), {"split": "test"}, loads_offline, loads_offline)]
    assert (datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE) == (False, False)


@pytest.mark.parametrize("script, read, local_flag", [
    ("HP/extract_wiki103_hp.py", lambda module: module.read_documents("wikitext"),
     "pass the train split as a local text file to --input"),
    ("FT/make_mixed_corpus.py", lambda module: module.read_lines(argparse.Namespace(
        input_files=None, dataset="wikitext", dataset_config="wikitext-2-raw-v1", split="train")),
     "pass local text files to --input_files"),
    ("MMLU/translate.py", lambda module: module.global_mmlu_rows("CohereForAI/Global-MMLU", "fr", "test"),
     "pass a folder holding one save_to_disk copy per language to --import_global_mmlu"),
])
def test_the_other_hub_datasets_name_their_local_flag_when_offline(script, read, local_flag, tmp_path,
                                                                   monkeypatch):
    import datasets.config

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path)
    with pytest.raises(hub.HubUnreachable) as error:
        read(load_script(script))
    assert str(error.value).endswith(f"and HF_HUB_OFFLINE is set; load it once where there is internet and copy "
                                     f"the cache here, or {local_flag}")


def test_a_cached_hub_quiz_is_served_from_the_datasets_cache_when_the_hub_is_unreachable(tmp_path, monkeypatch):
    """The cache is laid out as load_dataset leaves a hub dataset ({namespace}___{name}/{config}/
    {version}/{revision}/{name}-{split}.arrow), built here from the demo quiz's CSV files."""
    import shutil

    import datasets.config
    from datasets.data_files import DataFilesDict
    from datasets.packaged_modules.csv.csv import Csv

    splits = {"English": [str(DEMO_QUIZ / "English.csv")], "French": [str(DEMO_QUIZ / "French.csv")]}
    builder = Csv(cache_dir=str(tmp_path / "build"), dataset_name="hp-quiz",
                  data_files=DataFilesDict.from_patterns(splits))
    builder.download_and_prepare()
    shutil.copytree(builder.cache_dir, tmp_path / "cache" / "someone___hp-quiz" / "default" / "0.0.0" / "0123abcd")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda: False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    quiz = load_quiz("someone/hp-quiz", ["en", "fr"])
    assert quiz == load_quiz(DEMO_QUIZ, ["en", "fr"])
    assert len(quiz["fr"]) == 30 and quiz["fr"][0].item.question == "Qui est le parrain de Harry Potter ?"
