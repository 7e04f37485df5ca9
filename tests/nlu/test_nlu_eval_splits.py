"""The held-out NLU splits (tests/nlu_eval/) are trustworthy: both exist, neither shares an example with
the training data (data/nlu/), and `scripts/nlu_eval.py --check` fails before loading any model when
either is not so (issue 11)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from scripts import nlu_eval

ROOT = Path(__file__).resolve().parents[2]


def test_held_out_splits_share_no_example_with_the_training_data() -> None:
    assert nlu_eval.split_problems(nlu_eval.SPLITS_DIR, nlu_eval.training_texts()) == []


def test_an_example_also_trained_on_is_reported(tmp_path: Path) -> None:
    for language in nlu_eval.LANGUAGES:
        shutil.copy(nlu_eval.SPLITS_DIR / f"{language}.yml", tmp_path)
    problems = nlu_eval.split_problems(tmp_path, nlu_eval.training_texts() | {"你好 请问一下"})
    assert problems == ["zh.yml: '你好 请问一下' is also in the training data"]


def run_check(splits: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "scripts/nlu_eval.py",
            "--check",
            "--splits",
            str(splits),
            "--model",
            "no-such-model",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_fails_when_a_split_file_is_missing(tmp_path: Path) -> None:
    shutil.copy(nlu_eval.SPLITS_DIR / "zh.yml", tmp_path)  # en.yml missing
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert f"missing held-out split {tmp_path / 'en.yml'}" in result.stderr


def test_check_fails_when_a_split_repeats_a_training_example(tmp_path: Path) -> None:
    shutil.copy(nlu_eval.SPLITS_DIR / "zh.yml", tmp_path)
    (tmp_path / "en.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_overseas_talent\n  examples: |\n    - work permit application steps\n',
        encoding="utf-8",
    )
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert "'work permit application steps' is also in the training data" in result.stderr


def test_reviewed_held_out_examples_join_their_language_and_are_checked(tmp_path: Path) -> None:
    for language in nlu_eval.LANGUAGES:
        shutil.copy(nlu_eval.SPLITS_DIR / f"{language}.yml", tmp_path)
    (tmp_path / "reviewed_2026-12-01.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_rent_subsidy\n  examples: |\n'
        "    - 租房补帖咋领\n    - how much is the rent subsidy in qingpu\n",
        encoding="utf-8",
    )
    zh_texts = [e["text"] for e in nlu_eval.split_examples(tmp_path, "zh")]
    en_texts = [e["text"] for e in nlu_eval.split_examples(tmp_path, "en")]
    assert "租房补帖咋领" in zh_texts and "租房补帖咋领" not in en_texts
    assert "how much is the rent subsidy in qingpu" in en_texts
    problems = nlu_eval.split_problems(tmp_path, nlu_eval.training_texts() | {"租房补帖咋领"})
    assert problems == ["reviewed_2026-12-01.yml: '租房补帖咋领' is also in the training data"]
