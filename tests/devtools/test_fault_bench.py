"""python -m devtools bench-faults, briefly: the bridge as a child process
answers genuine signed calls while flooded and while its call log is locked,
and the report says so (its timings are the benchmark's, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from devtools import fault_bench


def test_the_fault_bench_measures_both_scenarios(tmp_path: Path) -> None:
    out = tmp_path / "fault-bench.md"
    assert fault_bench.main(["--flood-s", "1.5", "--stall-s", "1.5", "--out", str(out)]) == 0
    figures = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert figures["flood"]["answers"] > 0 and figures["flood"]["flood_requests"] >= fault_bench.FLOODERS
    assert figures["stall"]["answers"] > 0 and figures["stall"]["lock_held_s"] == 1.5
    report = out.read_text(encoding="utf-8")
    assert "| flood | every answer < 1 s |" in report and "| stall | every answer < 3.5 s |" in report
