"""A commit-msg hook (see .pre-commit-config.yaml): the subject line says what changed
in at most 72 characters; the body says why."""

import sys
from pathlib import Path

LIMIT = 72

subject = Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()[0].rstrip()
if len(subject) > LIMIT:
    print(f"the subject is {len(subject)} characters; keep it to {LIMIT} (detail goes in the body)")
    sys.exit(1)
