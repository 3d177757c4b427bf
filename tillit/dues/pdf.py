"""PDFs of notices and invoices (fpdf2, its built-in Helvetica: Latin-1, which holds æøå and åäö)."""

from fpdf import FPDF

_PLAIN = str.maketrans({"–": "-", "—": "-", "·": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...",
                        "\u00a0": " "})


def plain(text) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_title(plain(title))
    pdf.set_creator("Tillit")
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf


def table_pdf(title: str, header: list[str], rows: list[list], *, widths: list[int], footer: str = "") -> bytes:
    pdf = _document(title)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, plain(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 8)
    for text, width in zip(header, widths, strict=True):
        pdf.cell(width, 6, plain(text), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for row in rows:
        for text, width in zip(row, widths, strict=True):
            pdf.cell(width, 5, plain(text)[: max(4, width // 2 + 4)], border=1)
        pdf.ln()
    if not rows:
        pdf.cell(0, 6, "-")
        pdf.ln()
    if footer:
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 7)
        pdf.multi_cell(0, 4, plain(footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def invoices_pdf(invoices: list[dict]) -> bytes:
    """One page per invoice: {"title", "lines": [(label, value)], "reference", "amount", "due"}."""
    pdf = _document(invoices[0]["title"] if invoices else "Invoices")
    for inv in invoices:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, plain(inv["title"]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "", 10)
        for label, value in inv["lines"]:
            pdf.cell(60, 6, plain(label))
            pdf.multi_cell(0, 6, plain(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(60, 7, plain(inv["reference_label"]))
        pdf.cell(0, 7, plain(inv["reference"]))
        pdf.ln()
        pdf.cell(60, 7, plain(inv["amount_label"]))
        pdf.cell(0, 7, plain(inv["amount"]))
        pdf.ln()
        pdf.cell(60, 7, plain(inv["due_label"]))
        pdf.cell(0, 7, plain(inv["due"]))
        pdf.ln()
    return bytes(pdf.output())
