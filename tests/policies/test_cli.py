"""python -m policies evaluate|explain|validate, run as a real subprocess the way staff and scripts use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCIENTIST = {
    "district": "青浦区",
    "age": 33,
    "education": "PhD",
    "full_time": True,
    "title": "副高",
    "honors": ["无"],
    "employer_registered_in_district": True,
    "tax_and_social_insurance_in_district": True,
}


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policies", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_evaluate_prints_the_json_contract() -> None:
    done = run("evaluate", "--profile", "-", "--topic", "purchase_subsidy", stdin=json.dumps(SCIENTIST))
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["profile"]["district"] == "青浦" and output["profile"]["education"] == "博士"
    first = output["results"][0]
    assert (first["policy_id"], first["status"], first["tier"], first["max_amount"]) == (
        "qingpu.housing.purchase_subsidy",
        "eligible",
        "C",
        1000000,
    )
    assert first["source"]["doc_number"] == "青委〔2020〕88号"


def test_evaluate_reads_a_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"district": "杨浦", "hukou": "外地"}), encoding="utf-8")
    done = run("evaluate", "--profile", str(path), "--topic", "children_school")
    assert done.returncode == 0
    assert json.loads(done.stdout)["results"][0]["policy_id"] == "yangpu.children.school"


def test_explain_reads_like_an_officer_in_chinese() -> None:
    done = run("explain", "--profile", "-", "--topic", "purchase_subsidy", stdin=json.dumps(SCIENTIST))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "最高100万元" in text and "共10年" in text
    assert "青委〔2020〕88号" in text and "附件4" in text
    assert "用人单位" in text  # who applies


def test_explain_in_english() -> None:
    done = run(
        "explain",
        "--profile",
        "-",
        "--language",
        "en",
        "--topic",
        "rent_subsidy",
        stdin=json.dumps(SCIENTIST),
    )
    assert done.returncode == 0
    assert "not cumulative" in done.stdout and "青委〔2020〕88号" in done.stdout


def test_validate_reports_ok() -> None:
    done = run("validate")
    assert done.returncode == 0
    assert done.stdout.startswith("ok:")


@pytest.mark.parametrize(
    ("stdin", "field"),
    [
        ('{"agee": 3}', "agee"),
        ('{"age": "old"}', "age"),
        ('{"district": "浦东"}', "district"),
        ('{"district": ', "--profile"),
        ("[1, 2]", "profile"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line_naming_the_field(stdin: str, field: str) -> None:
    done = run("evaluate", "--profile", "-", stdin=stdin)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert field in done.stderr


def test_missing_profile_file_is_one_line() -> None:
    done = run("explain", "--profile", "/nonexistent/profile.json")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "cannot read" in done.stderr


def test_unknown_topic_is_rejected_by_the_parser() -> None:
    done = run("evaluate", "--profile", "-", "--topic", "parking", stdin="{}")
    assert done.returncode != 0 and "Traceback" not in done.stderr


def test_validate_fails_loudly_on_broken_data(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "policies" / "data", tmp_path / "data")
    broken = tmp_path / "data" / "yangpu" / "talent-plan-2021.yml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace(
            "kind: descriptive", "kind: descriptive\n    kind: computable", 1
        )
    )
    done = run("validate", "--data", str(tmp_path / "data"))
    assert done.returncode == 3
    assert (
        "Traceback" not in done.stderr
        and "duplicate key 'kind'" in done.stderr
        and "talent-plan-2021.yml" in done.stderr
    )
