"""Real files of every format, built inside the tests (fpdf2, python-docx, plain strings)."""

from __future__ import annotations

from pathlib import Path

MARKDOWN = """---
language: en
---
# The **Harbour** Report

Intro paragraph with *emphasis* and a [link to the site](https://example.org/a.b?x=1 "Site").
It continues on a second line with `inline code` here.

## Money and ships

- The port handled **4.2 million** containers in 2023.
- Its director is [Maria Keller](https://example.org/keller), who took office in May.

Escaped \\*stars\\* and an &amp; entity stay readable. Another sentence follows.

```
code blocks are not prose.
```

> A quoted sentence about the harbour.
"""

HTML = """<!doctype html><html><head><meta charset="utf-8">
<title>Harbour news | Example Times</title>
<meta property="og:title" content="The harbour grows">
</head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article>
<h1>The harbour grows</h1>
<p>The port of Example handled 4.2 million containers last year, more than ever before.
Its director, Maria Keller, expects further growth in the coming decade.</p>
<h2>New cranes</h2>
<p>Six new cranes arrived from Shanghai in March. They can lift two containers at once,
which speeds up the unloading of the largest ships considerably.</p>
<p>The city council approved a budget of 80 million euros for the dredging of the river.</p>
</article>
<footer>Copyright Example Times. All rights reserved.</footer>
</body></html>
"""

PDF_PAGES = [
    ("Chapter One", [
        "The lighthouse of Nordby was built in 1871 by the engineer Henrik Olsen. "
        "It stands on a granite rock at the mouth of the fjord and is forty metres tall.",
        "Its lamp was electrified in 1923.",
    ]),
    ("Chapter Two", [
        "The keeper Anna Berg lived in the tower for thirty-two years. "
        "She kept a diary of every storm, which the town museum now holds.",
    ]),
    ("Chapter Three", [
        "Since 1989 the light has been automatic and is controlled from the harbour office in Nordby.",
    ]),
]


def make_pdf(path: Path, pages=PDF_PAGES, title: str | None = "The Nordby Lighthouse",
             password: str | None = None, text: bool = True) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if password:
        from fpdf.enums import EncryptionMethod

        pdf.set_encryption(owner_password="owner", user_password=password,
                           encryption_method=EncryptionMethod.RC4)
    for heading, paragraphs in pages:
        pdf.add_page()
        if not text:
            pdf.rect(20, 20, 100, 60, style="F")  # a "scan": an image-like page without text
            continue
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(4)
    pdf.output(str(path))
    return path


def make_docx(path: Path, core_title: str = "") -> Path:
    import docx

    word = docx.Document()
    word.core_properties.title = core_title
    word.add_paragraph("Annual Harbour Review", style="Title")
    word.add_heading("Traffic", level=1)
    word.add_paragraph("The port handled 4.2 million containers. That is a record.")
    word.add_paragraph("Ships came from 40 countries.", style="List Bullet")
    word.add_heading("Cranes", level=2)
    word.add_paragraph("Six new cranes arrived in March.")
    table = word.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Year", "Containers"
    table.cell(1, 0).text, table.cell(1, 1).text = "2023", "4.2 million"
    word.save(str(path))
    return path


SLIDES = [
    ("The Nordby Ferry", ["A deck about the ferry between Nordby and Vik."], ""),
    ("Timetable", ["The ferry leaves Nordby at seven in the morning.", "It returns from Vik at six."],
     "Mention the summer timetable."),
    ("The new ship", ["The new ferry Aurora carries 240 passengers and 60 cars.",
                      "It was built in Gdansk and runs on batteries."],
     "The captain of the Aurora is Liv Hansen."),
]


def make_pptx(path: Path, slides=SLIDES, core_title: str = "") -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = core_title
    for title, paragraphs, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
        slide.shapes.title.text = title
        frame = slide.placeholders[1].text_frame
        frame.text = paragraphs[0]
        for paragraph in paragraphs[1:]:
            frame.add_paragraph().text = paragraph
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    table_slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only, plus a table
    table_slide.shapes.title.text = "Prices"
    table = table_slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "Ticket", "Price"
    table.cell(1, 0).text, table.cell(1, 1).text = "Adult", "12 euros"
    deck.save(str(path))
    return path


SHEET_ROWS = [
    ["Name", "Role", "Years of service", "Harbour"],
    ["Anna Berg", "keeper", 32, "Nordby"],
    ["Henrik Olsen", "engineer", 4.0, "Vik"],
    [None, None, None, None],
    ["Liv Hansen", "captain", 11, None],
]


def make_xlsx(path: Path, rows=SHEET_ROWS, title: str = "") -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Staff"
    for row in rows:
        sheet.append(row)
    ships = book.create_sheet("Ships")
    ships.append(["Ship", "Passengers"])
    ships.append(["Aurora", 240])
    ships.append(["Total", "=SUM(B2:B2)"])  # a formula without a saved value: left out
    book.properties.title = title or None
    book.save(str(path))
    return path


CSV = """Name;Role;Note
Anna Berg;keeper;"Kept a diary of every storm; the museum holds it"
Henrik Olsen;engineer;"=HYPERLINK(""http://evil.example/x"",""click me"")"
"""
