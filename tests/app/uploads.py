"""Files for the document upload tests (``from uploads import ...`` in tests/app), built here:
a PDF with a fact only on its page 2, and one file for each kind of bad upload."""

from __future__ import annotations

import zipfile
from pathlib import Path

# Each page: (heading, paragraph). Only page 2 knows who kept the lighthouse and for how long.
LIGHTHOUSE_PAGES = [
    ("Chapter One", "The lighthouse of Nordby stands on a granite rock at the mouth of the fjord. "
                    "It is forty metres tall and was painted white in 1902."),
    ("Chapter Two", "The keeper Anna Berg lived in the tower for thirty-two years. "
                    "She kept a diary of every storm, which the town museum now holds."),
    ("Chapter Three", "Since 1989 the light has been automatic and is controlled from the harbour office."),
]
PAGE_TWO_QUESTION = "How long did Anna Berg live in the tower?"
PAGE_TWO_FACT = "thirty-two years"

GARDEN_MD = """# Garden notes

The tomatoes were planted in April. They grew well in the warm summer.

- The beans needed more water than expected.
- The **roses** flowered twice.
"""


def make_pdf(path: Path, pages=LIGHTHOUSE_PAGES, title: str | None = "Nordby Lighthouse Report",
             password: str | None = None) -> Path:
    """A real PDF (fpdf2) with one heading and paragraph per page (the ingest tests' writer)."""
    from ingest.formats import make_pdf as write_pdf  # tests/ is on the path (its conftest)

    return write_pdf(path, [(heading, [paragraph]) for heading, paragraph in pages], title, password)


def make_bad_uploads(folder: Path) -> dict[str, Path]:
    """One file per bad upload whose content gives it away, keyed by what is wrong."""
    from pypdf import PdfWriter

    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    files["zip"] = folder / "report.pdf"  # a zip archive named .pdf
    with zipfile.ZipFile(files["zip"], "w") as archive:
        archive.writestr("report.txt", "not a PDF at all")
    files["program"] = folder / "invoice.pdf"  # a Windows program named .pdf
    files["program"].write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(500))
    files["encrypted"] = make_pdf(folder / "secret.pdf", password="geheim")
    files["zero_pages"] = folder / "empty.pdf"
    with open(files["zero_pages"], "wb") as handle:
        PdfWriter().write(handle)
    files["broken"] = folder / "broken.pdf"
    files["broken"].write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                                b"garbage that is no PDF structure\n%%EOF\n")
    files["empty"] = folder / "blank.pdf"  # zero bytes: empty, not "text"
    files["empty"].write_bytes(b"")
    files["unsupported"] = folder / "slides.odp"
    files["unsupported"].write_bytes(b"PK\x03\x04 whatever")
    files["macros"] = folder / "budget.xlsm"  # refused by its ending, never opened
    files["macros"].write_bytes(b"PK\x03\x04 whatever")
    return files


# What the message for each bad upload says (besides the file's name).
BAD_UPLOAD_MESSAGES = {
    "zip": "is a zip archive, not a PDF",
    "program": "is a program (an executable file), not a PDF",
    "encrypted": "is an encrypted (password-protected) PDF",
    "zero_pages": "is a PDF without pages",
    "broken": "is a damaged PDF that cannot be read",
    "unsupported": ".odp files are not supported",
    "macros": ".xlsm files carry macros, which are never opened here",
    "empty": "is empty: there is nothing to read in it",
}
