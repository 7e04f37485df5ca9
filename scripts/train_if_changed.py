"""Train the Rasa model only when something it is built from has changed.

Rasa's own graph cache fingerprints training data and component configs, but not the code of our
custom components in nlu/ nor the vocabulary they read (policies/vocabulary.yml). So we fingerprint
every input ourselves and, when anything changed, train from scratch (`--force`); when nothing
changed we keep the model we have. The fingerprint lives next to the model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Everything the trained model depends on (paths relative to the repo root).
TRAINING_INPUTS = [
    "config.yml",
    "domain.yml",
    "domain",
    "data",
    "nlu",
    "policies/vocabulary.yml",
    "constraints.txt",
]
MODEL_NAME = "assistant"


def input_files() -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            # documentation beside the code (nlu/README.md) cannot change the model
            files.extend(
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".md")
            )
    return sorted(files)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("MODELS_DIR", "models"), help="model directory")
    parser.add_argument("--rasa", default=str(Path(sys.executable).with_name("rasa")), help="rasa executable")
    args = parser.parse_args()

    out = Path(args.out)
    model = out / f"{MODEL_NAME}.tar.gz"
    stamp = out / f"{MODEL_NAME}.fingerprint.json"
    current = fingerprint()
    if model.exists() and stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == current:
        print(f"model up to date: {model} (training inputs unchanged)")
        return 0

    out.mkdir(parents=True, exist_ok=True)
    print(f"training inputs changed: training {model} ...", flush=True)
    # the directory domain/: domain.yml (linked as domain/dialogue.yml) + the generated domain/profile.yml
    command = [args.rasa, "train", "--force", "--domain", "domain", "--out", str(out)]
    command += ["--fixed-model-name", MODEL_NAME]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0 or not model.exists():
        print("training failed", file=sys.stderr)
        return result.returncode or 1
    stamp.write_text(json.dumps({"fingerprint": current}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
