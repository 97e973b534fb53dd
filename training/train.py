"""Train the three models on a ledger with the parameters in training/configs/train.yaml.

    python training/train.py data/sample [--as-of 2025-06-30] [--models default]

Any ``riskmodel train`` option can follow; this entry point only adds ``--config``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from riskmodel.cli import main

CONFIG = Path(__file__).resolve().parent / "configs" / "train.yaml"

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:], "--config", str(CONFIG)]))
