#!/usr/bin/env python3
"""Makes the sample documents in this folder (run from anywhere: python3 make.py).

Each file is small, real and made by the library that writes that format, so libmagic sees what a
user's file would give it. Needs: pip install python-docx python-pptx openpyxl odfpy Pillow reportlab EbookLib;
gcc for the ELF binary. The output is committed; run this only to remake it.
"""
import io, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = "Intake sample document. Knowledge bases ingest text like this, one paragraph at a time."

def path(name): return os.path.join(HERE, name)

def pdf():
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(path("sample.pdf"), invariant=1)
    c.drawString(72, 720, TEXT)
    c.showPage(); c.save()

def docx():
    import docx
    d = docx.Document(); d.add_heading("Sample", 1); d.add_paragraph(TEXT)
    d.core_properties.created = d.core_properties.modified = __import__("datetime").datetime(2026, 1, 1)
    d.save(path("sample.docx"))

def xlsx():
    import openpyxl
    wb = openpyxl.Workbook(); ws = wb.active
    ws.append(["id", "text"]); ws.append([1, TEXT])
    wb.save(path("sample.xlsx"))

def odt():
    from odf.opendocument import OpenDocumentText
    from odf.text import P
    doc = OpenDocumentText(); doc.text.addElement(P(text=TEXT)); doc.save(path("sample.odt"))

def epub():
    from ebooklib import epub as e
    book = e.EpubBook(); book.set_identifier("intake-sample"); book.set_title("Sample"); book.set_language("en")
    chapter = e.EpubHtml(title="One", file_name="one.xhtml", lang="en"); chapter.content = f"<h1>One</h1><p>{TEXT}</p>"
    book.add_item(chapter); book.toc = (chapter,); book.add_item(e.EpubNcx()); book.add_item(e.EpubNav()); book.spine = ["nav", chapter]
    e.write_epub(path("sample.epub"), book)

def html():
    open(path("sample.html"), "w").write(f"<!DOCTYPE html>\n<html><head><title>Sample</title></head>\n<body><p>{TEXT}</p></body></html>\n")

def csv():
    open(path("sample.csv"), "w").write("id,title,words\n1,Sample,12\n2,Another,7\n")

def json_():
    open(path("sample.json"), "w").write(json.dumps({"title": "Sample", "text": TEXT, "tags": ["a", "b"]}, indent=2) + "\n")

def images():
    from PIL import Image
    img = Image.new("RGB", (32, 16), (200, 30, 60))
    img.save(path("sample.png")); img.save(path("sample.jpg"), quality=85)

def text():
    open(path("sample.txt"), "w").write(TEXT + "\n")

def script():
    with open(path("sample.sh"), "w") as f: f.write("#!/bin/sh\necho 'not a document'\n")

def elf():
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "hello.c"); open(src, "w").write("int main(void) { return 0; }\n")
        subprocess.run(["gcc", "-Os", "-s", "-o", path("sample.elf"), src], check=True)

def pptx():
    from pptx import Presentation
    deck = Presentation()
    for title, body in [("Quarterly review", "Quarterly revenue grew in every region."),
                        ("Next steps", "Customer retention is the focus of the next quarter.")]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title; slide.placeholders[1].text = body
    deck.core_properties.created = deck.core_properties.modified = __import__("datetime").datetime(2026, 1, 1)
    deck.save(path("sample.pptx"))

def markdown():
    open(path("sample.md"), "w").write("# Setup guide\n\nInstall the service, then start it with one command.\n\n"
                                       "## Troubleshooting\n\nIf the port is taken, choose another with --port.\n")

def xml():
    open(path("sample.xml"), "w").write('<?xml version="1.0" encoding="UTF-8"?>\n<catalog><book id="1"><title>Streaming parsers'
                                        '</title><summary>How to read uploads without holding them in memory.</summary></book></catalog>\n')

def rich_html():
    open(path("sample-rich.html"), "w").write(
        "<!DOCTYPE html>\n<html><head><title>Release notes</title><style>p { color: red }</style>\n"
        "<script>var secret = 'not text';</script></head>\n<body><h1>Release notes</h1>\n"
        "<p>Uploads are now 3&times; faster &amp; use less memory&nbsp;&mdash; see the caf&eacute; benchmark.</p>\n"
        "<h2>Fixes</h2><ul><li>Empty files are skipped</li><li>Retries back off</li></ul>\n"
        "<!-- a comment that is not text --></body></html>\n")

def encodings():
    open(path("sample-utf16.txt"), "wb").write("Grüße aus Köln, in UTF-16 with a byte-order mark.\n".encode("utf-16"))
    open(path("sample-latin1.txt"), "wb").write("Un café crème et une brûlée, en ISO-8859-1.\n".encode("latin-1"))

def multipage_pdf():
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(path("multipage.pdf"), invariant=1)
    for page, phrase in enumerate(["The first page introduces ingestion.", "The second page covers chunking.",
                                   "The third page explains search ranking."], 1):
        c.drawString(72, 720, f"Page {page}. {phrase}"); c.showPage()
    c.save()

MAKERS = (pdf, docx, xlsx, odt, epub, html, csv, json_, images, text, script, elf,
          pptx, markdown, xml, rich_html, encodings, multipage_pdf)
# python3 make.py [NAME...]: only the named makers (e.g. pptx markdown), else all of them.
for make in MAKERS:
    if len(sys.argv) == 1 or make.__name__.rstrip("_") in sys.argv[1:]:
        make()
