"""``drill report --pdf``: the report printed on A4 by headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rec_util import hall_doc, recorded_run

from sim.report.pdf import chromium

ROOT = Path(__file__).resolve().parents[2]


def _pdf_title(data: bytes) -> str:
    """The document title of a PDF (Chromium writes it as UTF-16 hex)."""
    m = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]*)>", data)
    return bytes.fromhex(m.group(1).decode()).decode("utf-16-be") if m else ""


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt install chromium)")
def test_the_report_is_printed_to_a4_pdf_with_its_title_and_pages(tmp_path):
    doc = hall_doc(drill={"title": "商场火灾疏散演练"})
    rec = recorded_run(tmp_path, doc, "pdf")
    res = subprocess.run([sys.executable, "-m", "tools.cli", "report", str(rec), "--out",
                          str(tmp_path / "r"), "--no-stills", "--pdf"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    line = json.loads(res.stdout.splitlines()[-1])
    pdf = Path(line["pdf"]).read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 3  # cover and assessment, the six sections with figures, annexes
    assert _pdf_title(pdf).startswith("演练评估报告")
    # A4: 595 x 842 points
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and abs(float(box.group(1)) - 595.9) < 2 and abs(float(box.group(2)) - 842.9) < 2
