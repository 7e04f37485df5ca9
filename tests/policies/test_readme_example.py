"""The README's "add a district by YAML alone" example really works: its YAML blocks load and evaluate.

The example district (浦东) is not in the vocabulary, so the test swaps it for 杨浦 in a copy of the data.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

from policies import evaluate, load_knowledge_base
from policies.knowledge import DATA_DIR

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"


def _yaml_blocks() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Adding a district")[1].split("\n## ")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    return [textwrap.dedent(block).replace("浦东", "杨浦") for block in blocks]


def test_readme_example_district_loads_and_evaluates(tmp_path: Path) -> None:
    district_file, conditions, policy_file = _yaml_blocks()
    shutil.copytree(DATA_DIR, tmp_path / "data")
    shutil.rmtree(tmp_path / "data" / "yangpu")
    folder = tmp_path / "data" / "pudong"
    folder.mkdir()
    (folder / "district.yml").write_text(district_file, encoding="utf-8")
    (folder / "conditions.yml").write_text(conditions, encoding="utf-8")
    (folder / "housing.yml").write_text(policy_file, encoding="utf-8")
    base = load_knowledge_base(tmp_path / "data")

    young = {"district": "杨浦", "age": 30, "education": "硕士", "employer_registered_in_district": True}
    result = evaluate(young, knowledge=base)["results"][0]
    assert (result["policy_id"], result["status"], result["max_amount"]) == (
        "pudong.housing.rent_subsidy",
        "eligible",
        2000,
    )
    older = evaluate({**young, "age": 36}, knowledge=base)["results"][0]
    assert older["status"] == "ineligible"
