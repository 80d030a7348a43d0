"""The report as PDF (A4, page numbers, the figures): report.html printed by Chromium.

Headless Chromium lays the page out as a browser does (the report's print CSS: A4,
figures and table rows kept whole, annexes on new pages) and draws Chinese with the
system's fonts (Debian: ``fonts-noto-cjk``). Through Playwright (the ``pdf`` extra, also
in ``test``) the footer carries "page N / M"; without it the ``chromium`` command prints
the page with its own header and footer (which also number the pages).

Chosen over WeasyPrint: Chromium is already what the project's browser client is tested
with, it needs no Pango/Cairo stack, and its CSS support is the browser's own.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from sim.errors import RecordingError

__all__ = ["chromium", "write_pdf"]

_FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#666;">'
           '<span class="title"></span> · <span class="pageNumber"></span> / '
           '<span class="totalPages"></span></div>')


def chromium() -> str | None:
    """Path of a Chromium or Chrome executable on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def write_pdf(html: str | Path, pdf: str | Path, *, timeout: float = 120.0) -> Path:
    """Print ``html`` (a file) to ``pdf`` on A4 with page numbers; returns the PDF path.

    Raises RecordingError saying what is missing when no Chromium can be found or the
    printing fails.
    """
    html, pdf = Path(html).resolve(), Path(pdf)
    exe = chromium()
    if exe is None:
        raise RecordingError("--pdf needs Chromium (Debian: apt-get install chromium "
                             "fonts-noto-cjk); report.html is written, print it from a browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _print_with_cli(exe, html, pdf, timeout)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.goto(html.as_uri(), wait_until="load", timeout=timeout * 1000)
                page.pdf(path=str(pdf), format="A4", print_background=True,
                         display_header_footer=True, header_template="<div></div>",
                         footer_template=_FOOTER,
                         margin={"top": "15mm", "bottom": "18mm", "left": "15mm",
                                 "right": "15mm"})
            finally:
                browser.close()
    except Exception as exc:  # noqa: BLE001 - any browser failure is one clear line
        raise RecordingError(f"printing {html.name} to PDF failed: {exc}") from None
    return pdf


def _print_with_cli(exe: str, html: Path, pdf: Path, timeout: float) -> Path:
    with tempfile.TemporaryDirectory(prefix="evacdrill-pdf-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
               f"--print-to-pdf={pdf.resolve()}", html.as_uri()]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RecordingError(f"printing {html.name} to PDF failed: {exc}") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RecordingError(f"printing {html.name} to PDF failed: {res.stderr[-300:]}")
    return pdf
