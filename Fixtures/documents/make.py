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

def rewrite_zip(name, change):
    """Rewrites the ZIP at `name`, passing {member: bytes} to `change`, which edits it in place."""
    import zipfile
    with zipfile.ZipFile(path(name)) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    change(members)
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)

def parts_docx():
    """A Word document with text in every part: a header and a footer, a comment, a footnote, an
    endnote and a text box (drawn twice, as Word does: a DrawingML shape and its VML fallback)."""
    import docx
    d = docx.Document()
    body = d.add_paragraph()
    run = body.add_run("The body says the archive is kept in the north wing.")
    d.add_comment(run, text="Reviewer comment: check the retention schedule.", author="Reviewer")
    d.sections[0].header.paragraphs[0].text = "Confidential handbook header"
    d.sections[0].footer.paragraphs[0].text = "Footer with the revision date"
    d.core_properties.created = d.core_properties.modified = __import__("datetime").datetime(2026, 1, 1)
    d.save(path("sample-parts.docx"))
    W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    def notes(kind, text):
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:{kind}s {W}>'
                f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
                f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:{kind}>'
                f'<w:{kind} w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:{kind}></w:{kind}s>').encode()
    textbox = ('<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
               '<wps:wsp><wps:txbx><w:txbxContent><w:p><w:r><w:t>Text box: the fire exit is by the stairs.</w:t></w:r></w:p>'
               '</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
               '<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>Text box: the fire exit is by the stairs.</w:t>'
               '</w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>')
    def change(m):
        m["word/footnotes.xml"] = notes("footnote", "Footnote: the retention policy is seven years.")
        m["word/endnotes.xml"] = notes("endnote", "Endnote: sources are the archive ledgers.")
        document = m["word/document.xml"].decode()
        document = document.replace("</w:t></w:r>", '</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r><w:r><w:endnoteReference w:id="1"/></w:r>', 1)
        document = document.replace("<w:sectPr", textbox + "<w:sectPr", 1)
        for prefix, uri in [("wp", "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"),
                            ("a", "http://schemas.openxmlformats.org/drawingml/2006/main"),
                            ("wps", "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"),
                            ("mc", "http://schemas.openxmlformats.org/markup-compatibility/2006"),
                            ("v", "urn:schemas-microsoft-com:vml")]:
            if f"xmlns:{prefix}=" not in document.split(">", 2)[1]:
                document = document.replace("<w:document ", f'<w:document xmlns:{prefix}="{uri}" ', 1)
        m["word/document.xml"] = document.encode()
        rels = m["word/_rels/document.xml.rels"].decode()
        base = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
        rels = rels.replace("</Relationships>", f'<Relationship Id="rIdFoot" Type="{base}footnotes" Target="footnotes.xml"/>'
                            f'<Relationship Id="rIdEnd" Type="{base}endnotes" Target="endnotes.xml"/></Relationships>')
        m["word/_rels/document.xml.rels"] = rels.encode()
        types = m["[Content_Types].xml"].decode()
        ct = "application/vnd.openxmlformats-officedocument.wordprocessingml."
        types = types.replace("</Types>", f'<Override PartName="/word/footnotes.xml" ContentType="{ct}footnotes+xml"/>'
                              f'<Override PartName="/word/endnotes.xml" ContentType="{ct}endnotes+xml"/></Types>')
        m["[Content_Types].xml"] = types.encode()
    rewrite_zip("sample-parts.docx", change)

def notes_pptx():
    """Three slides, the first two with speaker notes."""
    from pptx import Presentation
    deck = Presentation()
    for title, body, notes in [("Roadmap", "Three releases this year.", "Speaker notes: mention the beta customers."),
                               ("Budget", "Spending stays flat.", "Speaker notes: the travel budget moved to training."),
                               ("Questions", "Thank you.", None)]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title; slide.placeholders[1].text = body
        if notes: slide.notes_slide.notes_text_frame.text = notes
    deck.core_properties.created = deck.core_properties.modified = __import__("datetime").datetime(2026, 1, 1)
    deck.save(path("sample-notes.pptx"))

def sheets_xlsx():
    """Two sheets with header rows: the first's strings shared, the second's inline; numbers, a
    boolean, and a formula with its cached value."""
    import openpyxl
    wb = openpyxl.Workbook()
    sales = wb.active; sales.title = "Sales"
    sales.append(["Region", "Revenue", "Growing"])
    sales.append(["North", 12, True]); sales.append(["South", 7.5, False])
    staff = wb.create_sheet("Staff")
    staff.append(["Name", "Role"]); staff.append(["Ada", "Engineer"]); staff.append(["Grace", None])
    wb.properties.created = wb.properties.modified = __import__("datetime").datetime(2026, 1, 1)
    wb.save(path("sample-sheets.xlsx"))
    def change(m):
        import re
        # openpyxl writes inline strings: the first sheet's become shared strings, as Excel writes them.
        first = m["xl/worksheets/sheet1.xml"].decode()
        shared = []
        def share(match):
            shared.append(match.group(2))
            return f'<c r="{match.group(1)}" t="s"><v>{len(shared) - 1}</v></c>'
        first = re.sub(r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>([^<]*)</t></is></c>', share, first)
        # And a total: a formula with its cached value.
        row4 = '<row r="4"><c r="A4" t="str"><v>Total</v></c><c r="B4"><f>SUM(B2:B3)</f><v>19.5</v></c></row>'
        first = first.replace("</sheetData>", row4 + "</sheetData>", 1)
        first = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:C4"/>', first)
        m["xl/worksheets/sheet1.xml"] = first.encode()
        main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        m["xl/sharedStrings.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {main} count="{len(shared)}" '
                                     f'uniqueCount="{len(shared)}">' + "".join(f"<si><t>{t}</t></si>" for t in shared) + "</sst>").encode()
        rels = m["xl/_rels/workbook.xml.rels"].decode()
        m["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", '<Relationship Id="rIdShared" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>').encode()
        types = m["[Content_Types].xml"].decode()
        m["[Content_Types].xml"] = types.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>').encode()
    rewrite_zip("sample-sheets.xlsx", change)

def sheets_ods():
    """A spreadsheet with a header row, a number, and a cell repeated over columns."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow, TableCell
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    table = Table(name="Inventory")
    def row(*cells):
        r = TableRow()
        for value in cells:
            if isinstance(value, tuple):  # (text, repeated)
                c = TableCell(valuetype="string", numbercolumnsrepeated=value[1]); c.addElement(P(text=value[0]))
            elif isinstance(value, (int, float)):
                c = TableCell(valuetype="float", value=value); c.addElement(P(text=str(value)))
            else:
                c = TableCell(valuetype="string"); c.addElement(P(text=value))
            r.addElement(c)
        table.addElement(r)
    row("Item", "Count", "Shelf", "Bin")
    row("Lanterns", 40, ("Aisle 3", 2))
    doc.spreadsheet.addElement(table)
    doc.save(path("sample-sheets.ods"))

def rtf():
    text = (r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Helvetica;}}{\colortbl;\red255\green0\blue0;}"
            r"{\*\generator Handwritten;}\f0\fs24 Rich text: the caf\'e9 opens at \b nine\b0 .\par "
            r"Second paragraph with \u8364? euros and a \{brace\}.\par}")
    open(path("sample.rtf"), "w").write(text + "\n")

MAKERS = (pdf, docx, xlsx, odt, epub, html, csv, json_, images, text, script, elf,
          pptx, markdown, xml, rich_html, encodings, multipage_pdf, parts_docx, notes_pptx, sheets_xlsx, sheets_ods, rtf)
# python3 make.py [NAME...]: only the named makers (e.g. pptx markdown), else all of them.
for make in MAKERS:
    if len(sys.argv) == 1 or make.__name__.rstrip("_") in sys.argv[1:]:
        make()
