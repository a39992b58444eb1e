"""The resume primitive (crossknow/core/resume.py): a stable fingerprint, a one-line refusal naming
the file and the setting, an append that a kill cannot tear, and a resumed run equal to an
uninterrupted one."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from crossknow.core.errors import CrossknowError
from crossknow.core.resume import (
    Journal,
    ResumeError,
    SettingsFile,
    append_records,
    check_same,
    first_difference,
    read_records,
    settings_sha256,
)


def test_the_fingerprint_is_stable_across_key_order_and_is_the_hash_results_carry():
    a = {"model": "m", "config": {"shots": 5, "limit": None}, "units": ["x", "y"]}
    b = {"units": ["x", "y"], "config": {"limit": None, "shots": 5}, "model": "m"}
    assert settings_sha256(a) == settings_sha256(b)
    # The hash of schema 1 results (config.fingerprint_sha256): unchanged, so their results stay served.
    assert settings_sha256({"b": [1, "é"], "a": 1}) == hashlib.sha256(b'{"a": 1, "b": [1, "\\u00e9"]}').hexdigest()
    assert settings_sha256({**a, "units": ["y", "x"]}) != settings_sha256(a)


def test_the_first_difference_names_the_nested_setting():
    assert first_difference({"config": {"limit": 3, "shots": 5}}, {"config": {"limit": 5, "shots": 5}}) == \
        "config.limit: 3 on disk, 5 now"
    assert first_difference({"a": 1}, {"a": 1}) == ""
    assert first_difference([1], [2]) == "settings: [1] on disk, [2] now"


def test_a_setting_missing_on_one_side_differs_from_one_set_to_none():
    assert first_difference({"a": 1, "b": None}, {"a": 1}) == "b: None on disk, <unset> now"
    assert first_difference({"a": 1}, {"a": 1, "b": None}) == "b: <unset> on disk, None now"
    assert first_difference({"a": 1, "b": None}, {"a": 1, "b": None}) == ""


def test_a_mismatch_is_refused_in_one_line_naming_the_file_and_the_setting(tmp_path):
    settings = SettingsFile(tmp_path / "run" / "settings.json")
    assert settings.check({"seed": 0}, "use --overwrite") is None  # nothing on disk yet
    settings.write({"seed": 0, "model": "m"})
    assert settings.check({"seed": 0, "model": "m"}, "use --overwrite") == {"seed": 0, "model": "m"}
    with pytest.raises(ResumeError) as refused:
        settings.check({"seed": 1, "model": "m"}, "use --overwrite or another --output_dir")
    assert str(refused.value) == (f"{tmp_path}/run/settings.json: made with other settings (seed: 0 on disk, 1 now); "
                                  "use --overwrite or another --output_dir")
    assert "\n" not in str(refused.value) and isinstance(refused.value, CrossknowError)
    with pytest.raises(ResumeError, match=r"^f: built otherwise \(x: 1 on disk, 2 now\); fix it$"):
        check_same("f", {"x": 1}, {"x": 2}, "fix it", "built otherwise")


def test_only_the_named_keys_are_compared(tmp_path):
    settings = SettingsFile(tmp_path / "settings.json")
    settings.write({"model": "m", "failed": {"en-fr": [2]}})
    settings.check({"model": "m"}, "remedy", keys=["model"])
    with pytest.raises(ResumeError, match=r"model: 'm' on disk, 'n' now"):
        settings.check({"model": "n"}, "remedy", keys=["model"])


def test_a_torn_last_line_is_dropped_and_removed_by_the_next_append(tmp_path):
    journal = tmp_path / "records.jsonl"
    append_records(journal, [{"i": 0}, {"i": 1}])
    with open(journal, "ab") as f:  # what a kill in the middle of a write leaves, here inside a character
        f.write('{"i": 2, "text": "é'.encode()[:-1])
    assert read_records(journal) == [{"i": 0}, {"i": 1}]
    append_records(journal, [{"i": 2}])
    assert read_records(journal) == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert journal.read_text() == '{"i": 0}\n{"i": 1}\n{"i": 2}\n'


def test_a_damaged_line_before_the_end_is_an_error_naming_the_line(tmp_path):
    journal = tmp_path / "records.jsonl"
    journal.write_text('{"i": 0}\n{"i": \n{"i": 2}\n')
    with pytest.raises(CrossknowError, match=r"records.jsonl: line 2: not valid JSON"):
        read_records(journal)


def test_non_finite_numbers_are_refused():
    with pytest.raises(ValueError):
        append_records("/nonexistent-never-written/x.jsonl", [{"p": float("nan")}])


WRITER = """
import sys
from crossknow.core.resume import append_records
i = 0
while True:
    append_records(sys.argv[1], [{"i": i + k, "text": "x" * 20000} for k in range(50)])
    i += 50
"""


def test_the_append_survives_a_kill_mid_write(tmp_path):
    """A writer killed (SIGKILL) while appending leaves only whole records, a prefix of what it
    wrote; appending goes on after them."""
    journal = tmp_path / "records.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(journal)], env=env)
        deadline = time.monotonic() + 30
        while (not journal.exists() or journal.stat().st_size < 3_000_000) and time.monotonic() < deadline:
            time.sleep(0.01)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        records = read_records(journal)
        assert records and all(r["text"] == "x" * 20000 for r in records)
        indices = [r["i"] for r in records]
        assert indices == sorted(indices) and len(set(indices)) == len(indices)
        journal.unlink()
    append_records(journal, [{"i": 0}])
    assert read_records(journal) == [{"i": 0}]


def process(items: list[int], journal: Journal, settings: dict, die_after: int | None = None,
            overwrite: bool = False) -> list[dict]:
    """A toy resumable run: one record per item, appended as each finishes."""
    done = {r["item"]: r for r in journal.open(settings, overwrite=overwrite)}
    for count, item in enumerate(i for i in items if i not in done):
        if die_after is not None and count == die_after:
            raise KeyboardInterrupt
        record = {"item": item, "square": item * item * settings["scale"]}
        journal.append([record])
        done[item] = record
    return [done[i] for i in items]


def test_a_resumed_run_equals_an_uninterrupted_one_and_a_mismatch_is_never_mixed(tmp_path):
    items, settings = list(range(10)), {"scale": 3, "data": "v1"}
    whole = process(items, Journal(tmp_path / "whole"), settings)
    folder = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        process(items, Journal(folder), settings, die_after=4)
    assert len(read_records(folder / "records.jsonl")) == 4
    assert process(items, Journal(folder), settings) == whole
    assert (folder / "records.jsonl").read_text() == (tmp_path / "whole" / "records.jsonl").read_text()
    with pytest.raises(ResumeError, match=r"settings.json: made with other settings \(scale: 3 on disk, 4 now\)"):
        process(items, Journal(folder), {**settings, "scale": 4})
    assert read_records(folder / "records.jsonl") == whole  # the refusal wrote nothing
    redone = process(items, Journal(folder), {**settings, "scale": 4}, overwrite=True)
    assert [r["square"] for r in redone] == [i * i * 4 for i in items]


def test_records_without_a_fingerprint_are_refused(tmp_path):
    append_records(tmp_path / "records.jsonl", [{"item": 0}])
    with pytest.raises(ResumeError, match=r"records.jsonl: records without settings.json"):
        Journal(tmp_path).open({"scale": 1})


def test_the_runner_translation_corpus_finetuning_and_synthetic_refusals_share_the_format(tmp_path):
    """Every mechanism refuses through the primitive: the file, what differs, on disk, now."""
    from crossknow.training.finetuning import ConfigError, refuse_if_changed

    saved = {"config": {"lr": 0.003}, "corpus_sha256": {"t.txt": "a"}, "optim_used": "adamw_torch"}
    with pytest.raises(ConfigError, match=r"^run/ft_run.json: saved under another configuration "
                                          r"\(corpus_sha256.t.txt: 'a' on disk, 'b' now\); rerun"):
        refuse_if_changed("run/ft_run.json", saved, {**saved, "corpus_sha256": {"t.txt": "b"}})
    refuse_if_changed("run/ft_run.json", {k: v for k, v in saved.items() if k != "optim_used"}, saved)
    assert json.loads(json.dumps(saved)) == saved
