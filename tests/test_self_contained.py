"""The suite and the benchmarks read nothing outside the repository: the official contract is
the repo's own copy (contract/, with its NOTICE), so a clone with nothing beside it runs every
test."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A path built to the folder beside the repo, in any of the ways this suite used to.
OUTSIDE = re.compile(
    r"""REPO\.parent\b|\.parents?\[\d\]\s*/\s*["']shared["']|["']\.\./shared|COMMSTOOLKIT_CONTRACT_DIR"""
)


def test_no_test_benchmark_or_script_reaches_outside_the_repo():
    files = [*REPO.glob("tests/**/*.py"), *REPO.glob("benchmarks/**/*.py"), REPO / "scripts/check"]
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, "\n".join(offenders)


def test_the_contract_copy_is_complete_and_says_where_it_comes_from():
    comms = REPO / "contract" / "comms"
    doc = json.loads((comms / "schemas.json").read_text(encoding="utf-8"))
    assert len(doc["$defs"]) >= 90 and len(doc["operations"]) >= 19
    openapi = json.loads((comms / "openapi.json").read_text(encoding="utf-8"))
    assert openapi["openapi"].startswith("3.1") and "/Messages" in openapi["paths"]
    assert len(list((comms / "examples").glob("*.json"))) >= 58
    assert (comms / "validate.py").is_file()
    events = json.loads((REPO / "contract/events/openapi.json").read_text(encoding="utf-8"))
    assert "/v1/Sinks" in events["paths"]
    events_readme = (REPO / "contract" / "events" / "README.md").read_text(encoding="utf-8")
    assert "d50069b44ea8cd23141385bdb6db48f16ff75bb5" in events_readme
    notice = (REPO / "contract" / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License, Version 2.0" in notice
    assert "0ef6e72430da569ec5d9be5c75a45c3cd586caa7" in notice
    assert "d50069b44ea8cd23141385bdb6db48f16ff75bb5" in notice
    assert "0ef6e72430da569ec5d9be5c75a45c3cd586caa7" in (comms / "README.md").read_text()
