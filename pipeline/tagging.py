"""PDF/UA details of the tagged PDFs that WeasyPrint 70 leaves out: figure alternatives, header scopes, link descriptions, figure boxes in points."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pydyf  # type: ignore[import-untyped]

SVG = "{http://www.w3.org/2000/svg}"
PX_TO_PT = 0.75  # WeasyPrint lays out in CSS pixels (1/96 in); PDF user space is in points (1/72 in)
SCOPES = {"row": "/Row", "rowgroup": "/Row", "col": "/Column", "colgroup": "/Column"}


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def add_alt_texts(root: ET.Element) -> None:
    """Give each inline SVG the <title> that WeasyPrint turns into its figure's /Alt.

    The text is the SVG's own `aria-label` (the templates describe what a chart
    shows there), else the caption of the <figure> around it.  An SVG that
    already has a <title> keeps it.
    """
    for parent in root.iter():
        for svg in parent:
            if svg.tag != f"{SVG}svg" or svg.find(f"{SVG}title") is not None:
                continue
            alt = svg.get("aria-label") or ""
            if not alt and parent.tag == "figure":
                alt = " ".join(_text(c) for c in parent if c.tag == "figcaption")
            if alt:
                title = ET.Element(f"{SVG}title")
                title.text = alt
                svg.insert(0, title)


def finish_tags(document: Any, pdf: Any) -> None:
    """Complete the structure tree written by WeasyPrint (a `write_pdf` finisher):

    - each table header cell gets its /Scope (/Column, or /Row for scope="row");
    - each link annotation is described by its visible text (« 3.1 Question 1 »)
      rather than by its anchor name (« sg-q1 »); external links keep their address;
    - each figure's /BBox is given in points from the page's bottom left, as PDF
      wants, instead of CSS pixels from the top.
    """
    link_texts: dict[str, str] = {}
    for page in document.pages:
        for box in page._page_box.descendants():
            if not link_texts and box.element_tag == "html":
                link_texts = {
                    a.get("href", "")[1:]: _text(a) for a in box.element.iter("a") if a.get("href", "").startswith("#")
                }
            mark = getattr(box, "mark", None)
            if mark is not None and box.element_tag == "th":
                scope = SCOPES.get((box.element.get("scope") or "col").lower(), "/Column")
                mark["A"]["Scope"] = scope  # pydyf writes a string starting with « / » as a name
            annotation = getattr(box, "link_annotation", None)
            if annotation is not None and "Dest" in annotation:
                text = link_texts.get(getattr(annotation["Dest"], "string", ""), "")
                if text:
                    annotation["Contents"] = pydyf.String(f"Aller à : {text}")  # the link's words, not generated leaders
    heights = {}
    for number, reference in enumerate(pdf.page_references):
        heights[reference] = document.pages[number].height * PX_TO_PT
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("S") == "/Figure" and "A" in obj and "BBox" in obj["A"]:
            x1, y1, x2, y2 = (float(v) for v in obj["A"]["BBox"])
            height = heights.get(obj.get("Pg"), 0.0)
            obj["A"]["BBox"] = pydyf.Array(
                (round(x1 * PX_TO_PT, 2), round(height - y2 * PX_TO_PT, 2), round(x2 * PX_TO_PT, 2), round(height - y1 * PX_TO_PT, 2))
            )
