"""A workbook described as a reader sees it (values, formats, fonts, alignment, borders,
fills, comments, merges, widths, heights, page setup), for comparing a written report with
the description kept in ``tests/data/``.

The description was taken from the report as openpyxl wrote it, before the writer moved to
XlsxWriter; the comparison shows the file did not change for its readers. Only spellings that
mean the same are made equal: a font without name or size is the default Calibri 11, a colour
left out is automatic, a fill's alpha byte is ignored (Excel ignores it), a left alignment that
only carries an indent is the general alignment Excel shows with an indent, a row without a
height has the default 15 pt, and "fit to 1 page wide" left implicit is 1.

Regenerate after an intended change of the layout:
``python -m tests.xlsx_golden tests/data/export_tw3_golden.json`` (writes the demo's TW III).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.styles.colors import Color

GOLDEN = Path(__file__).parent / "data" / "export_tw3_golden.json"
# The note the golden report carries in its page header (besides the demo's own figures).
UNVERIFIED = ["Koperasi (menunggu verifikasi)", "UMKM (dikembalikan)"]


def _colour(c: Color | None) -> str:
    if c is None or c.type == "auto" or (c.type == "theme" and c.theme == 1 and not c.tint):
        return "auto"  # theme colour 1 is the text colour: black, as automatic is
    if c.type == "rgb":
        return str(c.rgb)[-6:]
    return f"{c.type}:{c.value}"


def _style(c: Any) -> list[Any]:
    f, a, b, fill = c.font, c.alignment, c.border, c.fill
    indent = int(a.indent or 0)
    horizontal = None if a.horizontal == "left" and indent else a.horizontal
    sides = [[s.style, _colour(s.color)] if s is not None and s.style else None
             for s in (b.left, b.right, b.top, b.bottom)]  # fmt: skip
    return [
        c.number_format,
        [f.name or "Calibri", float(f.sz or 11), bool(f.b), bool(f.i), f.u, _colour(f.color)],
        [horizontal, a.vertical, bool(a.wrap_text), indent],
        sides,
        [fill.fill_type, _colour(fill.fgColor)] if fill.fill_type else None,
    ]


def _sheet(ws: Any, styles: list[list[Any]]) -> dict[str, Any]:
    widths: dict[str, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.customWidth:
            for i in range(dim.min or 0, (dim.max or 0) + 1):
                widths[str(i)] = dim.width
    ps, m, hf = ws.page_setup, ws.page_margins, (ws.oddHeader, ws.oddFooter)
    rows: dict[str, list[Any]] = {}
    for row in ws.iter_rows():
        line: list[Any] = []
        for c in row:
            if isinstance(c, MergedCell):
                line.append(None)
                continue
            style = _style(c)
            if style not in styles:
                styles.append(style)
            cell = [c.value, styles.index(style)]
            if c.comment is not None:
                cell.append([c.comment.text, c.comment.author])
            line.append(cell)
        rows[str(row[0].row)] = line
    return {
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "widths": dict(sorted(widths.items(), key=lambda kv: int(kv[0]))),
        "heights": {
            str(r): d.height
            for r, d in sorted(ws.row_dimensions.items())
            if d.height not in (None, 15)
        },
        "freeze": ws.freeze_panes,
        "print": [ws.print_title_rows, ws.print_title_cols, ws.print_area],
        "setup": [
            ps.orientation,
            ps.paperSize and int(ps.paperSize),
            int(ps.fitToWidth or 1),
            None if ps.fitToHeight is None else int(ps.fitToHeight),
            bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
        ],
        "margins": [m.left, m.right, m.top, m.bottom, m.header, m.footer],
        "centred": bool(ws.print_options.horizontalCentered),
        "header_footer": [[[p.text, p.size] for p in (h.left, h.center, h.right)] for h in hf],
        "zoom": ws.sheet_view.zoomScale,
        "rows": rows,
    }


def describe(path: Path) -> dict[str, Any]:
    """The description of the workbook at ``path``, in JSON types."""
    wb = load_workbook(path)
    styles: list[list[Any]] = []
    sheets = {ws.title: _sheet(ws, styles) for ws in wb.worksheets}
    return json.loads(json.dumps({"sheets": wb.sheetnames, "styles": styles, **sheets}))


def differences(a: Any, b: Any, where: str = "", out: list[str] | None = None) -> list[str]:
    """Where ``a`` and ``b`` differ, as readable paths (the first few are enough)."""
    out = [] if out is None else out
    if len(out) >= 20:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{where}/{k}: only in {'second' if k not in a else 'first'}")
            else:
                differences(a[k], b[k], f"{where}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            differences(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {a!r} != {b!r}")
    return out


def main() -> None:
    """Write the description of the demo's TW III report (with the golden's header note)."""
    import tempfile

    from benchmarks.generate import demo_database
    from storage.data.db import read_scope
    from storage.files.export import build_report, write_xlsx

    with tempfile.TemporaryDirectory() as d, demo_database(Path(d)) as engine:
        with read_scope(engine) as s:
            table = build_report(s, 1, 2022, 3)
        table.unverified = list(UNVERIFIED)
        path = Path(d) / "tw3.xlsx"
        write_xlsx(table, path)
        text = json.dumps(describe(path), ensure_ascii=False, separators=(",", ":"))
    Path(sys.argv[1] if len(sys.argv) > 1 else GOLDEN).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
