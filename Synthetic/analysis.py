"""The Synthetic experiment's metrics: per arm and language, accuracy, transfer and overall; arm
comparisons as paired differences; and the power of a design, computed from a pilot run.

Every per-question metric comes from ``crossknow.analysis.paired.paired_metrics`` (the module the MMLU and HP
reports use). A question's id names its seed, person, relation and language
(``{seed}|{person}|{relation}|{language}``); its cluster is its seed, so the clustered intervals
resample whole training runs. Pooled over languages, a fact is one question per language.

- ``transfer_cell``: an arm's answers in the other languages against its own English answers:
  accuracy, transfer (correct in X among the facts answered correctly in English), overall
  (correct in both), with their chance levels.
- ``comparison``: an arm against its control on the same questions: the difference of accuracy
  (arm minus control) with its paired and seed-clustered intervals and McNemar's p, and the
  difference of transfer, per seed and over seeds (t interval with k - 1 degrees of freedom and
  the difference detectable with 80% power; none with one seed).
- ``power_plan``: from a pilot, the number of facts a design needs to detect a change of transfer
  with 80% power at alpha 0.05, the change the planned design can detect, and its expected time.
"""

from __future__ import annotations

import math

import numpy as np

from crossknow.analysis.paired import paired_metrics

# Student t quantiles (0.975, 0.80) by degrees of freedom: numpy has no t distribution.
T_QUANTILES = {1: (12.706, 1.376), 2: (4.303, 1.061), 3: (3.182, 0.978), 4: (2.776, 0.941), 5: (2.571, 0.920),
               6: (2.447, 0.906), 7: (2.365, 0.896), 8: (2.306, 0.889), 9: (2.262, 0.883), 10: (2.228, 0.879)}
Z_975, Z_80 = 1.960, 0.842
TRANSFER_KEYS = ("n", "accuracy", "accuracy_reference", "transfer", "transfer_chance", "overall", "overall_chance",
                 "consistency", "consistency_chance")


def answers(seeds: dict, arm: str, set_name: str, variant: str, relations: list[str], tag: str) -> dict[str, dict]:
    """id -> {"correct", "prediction"}: one arm's answers in one variant, over seeds, for ``relations``;
    ``tag`` (a language) ends the id, so that answers in several languages can be pooled."""
    out = {}
    for seed, entry in seeds.items():
        cell = entry["arms"][arm][set_name][variant]
        for (person, relation), correct, prediction in zip(entry["questions"][set_name], cell["correct"],
                                                           cell["prediction"]):
            if relation in relations:
                out[f"{seed}|{person}|{relation}|{tag}"] = {"correct": bool(correct), "prediction": prediction}
    return out


def pooled(seeds: dict, arm: str, set_name: str, languages: list[str], relations: list[str],
           answered_in: str | None = None) -> dict[str, dict]:
    """An arm's answers in ``languages``, pooled; with ``answered_in``, each id gets the answer in
    that language instead (the English reference of every pooled question)."""
    out = {}
    for lang in languages:
        out.update(answers(seeds, arm, set_name, answered_in or lang, relations, lang))
    return out


def seed_of(question_id: str) -> str:
    return question_id.split("|", 1)[0]


def clusters(ids) -> dict[str, str]:
    return {i: seed_of(i) for i in ids}


def transfer_cell(seeds: dict, arm: str, set_name: str, languages: list[str], relations: list[str]) -> dict:
    """The arm's answers in ``languages`` (pooled) against its English answers to the same facts."""
    target = pooled(seeds, arm, set_name, languages, relations)
    reference = pooled(seeds, arm, set_name, languages, relations, answered_in="en")
    metrics = paired_metrics(target, reference, clusters=clusters(target))
    return {key: metrics[key] for key in TRANSFER_KEYS}


def seed_level(per_seed: list[float]) -> dict:
    """Mean over seeds, its t interval and the difference detectable with 80% power; no interval
    (null) with one seed."""
    k = len(per_seed)
    mean = float(np.mean(per_seed)) if k else None
    if k < 2:
        return {"mean": mean, "k": k, "sd": None, "ci95": None, "detectable_80": None}
    sd = float(np.std(per_seed, ddof=1))
    t_975, t_80 = T_QUANTILES.get(k - 1, (Z_975, Z_80))
    half = t_975 * sd / math.sqrt(k)
    return {"mean": mean, "k": k, "sd": sd, "ci95": [mean - half, mean + half],
            "detectable_80": (t_975 + t_80) * sd / math.sqrt(k)}


def negated(interval: list[float] | None) -> list[float] | None:
    return None if interval is None else [-interval[1], -interval[0]]


def comparison(seeds: dict, arm: str, control: str, set_name: str, languages: list[str], relations: list[str]) -> dict:
    """``arm`` against ``control`` on the same questions in ``languages`` (pooled): accuracy and
    transfer differences (arm minus control)."""
    target = pooled(seeds, arm, set_name, languages, relations)
    metrics = paired_metrics(target, pooled(seeds, control, set_name, languages, relations),
                             clusters=clusters(target))
    per_seed = []
    for seed in seeds:
        one = {seed: seeds[seed]}
        arm_transfer = transfer_cell(one, arm, set_name, languages, relations)["transfer"]
        control_transfer = transfer_cell(one, control, set_name, languages, relations)["transfer"]
        if arm_transfer is not None and control_transfer is not None:
            per_seed.append(arm_transfer - control_transfer)
    transfer = [transfer_cell(seeds, name, set_name, languages, relations)["transfer"] for name in (arm, control)]
    return {"n": metrics["n"], "accuracy": metrics["accuracy"], "accuracy_control": metrics["accuracy_reference"],
            "accuracy_difference": -metrics["gap"], "ci95": negated(metrics["gap_ci95"]),
            "ci95_clustered": negated(metrics["gap_ci95_clustered"]), "mcnemar_p": metrics["mcnemar_p"],
            "transfer": transfer[0], "transfer_control": transfer[1],
            "transfer_difference": None if None in transfer else transfer[0] - transfer[1],
            "transfer_per_seed": per_seed, "transfer_seed_level": seed_level(per_seed)}


def fact_transfer_differences(seeds: dict, arm: str, control: str, languages: list[str],
                              relations: list[str]) -> tuple[list[float], int]:
    """Per trained fact answered correctly in English by both arms: the arm's share correct over
    ``languages`` minus the control's (the per-fact form of a transfer difference); and the number
    of facts."""
    differences, facts = [], 0
    for entry in seeds.values():
        cells = {name: entry["arms"][name]["trained"] for name in (arm, control)}
        for i, (_, relation) in enumerate(entry["questions"]["trained"]):
            if relation not in relations:
                continue
            facts += 1
            if all(cells[name]["en"]["correct"][i] for name in cells):
                shares = [sum(cells[name][lang]["correct"][i] for lang in languages) / len(languages)
                          for name in (arm, control)]
                differences.append(shares[0] - shares[1])
    return differences, facts


def power_plan(pilot: dict, arm: str, control: str, languages: list[str], relations: list[str],
               planned_facts: int, effect: float = 0.10) -> dict:
    """From a pilot's per-fact transfer differences (normal approximation, facts independent: the
    pilot cannot measure the variation between seeds, which the clustered interval adds): the facts
    needed to detect ``effect`` with 80% power at alpha 0.05, and the effect ``planned_facts``
    (language-dependent trained facts over all seeds) can detect."""
    differences, facts = fact_transfer_differences(pilot["seeds"], arm, control, languages, relations)
    if len(differences) < 2 or not facts:
        raise ValueError(f"the pilot has {len(differences)} facts answered in English by both {arm} and {control}; "
                         "at least 2 are needed to estimate the spread")
    sd = float(np.std(differences, ddof=1))
    share = len(differences) / facts
    needed = math.ceil(((Z_975 + Z_80) * sd / effect) ** 2 / share) if sd else 1
    return {"comparison": f"{arm} vs {control}", "effect": effect, "pilot_facts": facts,
            "pilot_facts_right_in_english_both": len(differences), "share_right_in_english_both": share,
            "sd_per_fact": sd, "facts_needed": needed, "planned_facts": planned_facts,
            "detectable_80": (Z_975 + Z_80) * sd / math.sqrt(planned_facts * share) if sd else 0.0}
