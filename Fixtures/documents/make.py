#!/usr/bin/env python3
"""Makes the sample documents in this folder (run from anywhere: python3 make.py).

Each file is small, real and made by the library that writes that format, so libmagic sees what a
user's file would give it. Needs: pip install python-docx openpyxl odfpy Pillow reportlab EbookLib;
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

for make in (pdf, docx, xlsx, odt, epub, html, csv, json_, images, text, script, elf):
    make()
