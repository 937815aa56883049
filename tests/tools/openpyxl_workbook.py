#!/usr/bin/env python3
"""Our questionnaire workbook as openpyxl sees it, for tests/api/workbooks_openpyxl.rs.

  openpyxl_workbook.py inspect BOOK.xlsx
      Loads the workbook and prints, as JSON, what the Rust test asserts on: every warning openpyxl raised while
      loading, the sheets and their visibility, and for each sheet its protection, frozen pane, print settings,
      column widths, data validations and every cell's value and lock.

  openpyxl_workbook.py fill BOOK.xlsx OUT.xlsx EDITS.json
      Loads the workbook, writes each edit ({"Questions!D2": "Yes", ...}; null clears a cell and
      {"date": "2024-11-30"} writes a date), and saves it to OUT.xlsx with openpyxl, keeping what openpyxl keeps.

The script only observes and edits; every judgement is in the Rust test.
"""

import datetime
import json
import sys
import warnings

import openpyxl
from openpyxl.utils import get_column_letter


def inspect(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        book = openpyxl.load_workbook(path)
    sheets = []
    for sheet in book.worksheets:
        cells = {}
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None and cell.protection.locked:
                    continue
                value = cell.value
                if hasattr(value, "isoformat"):
                    value = value.isoformat()
                cells[cell.coordinate] = {"value": value, "locked": bool(cell.protection.locked)}
        validations = []
        for dv in sheet.data_validations.dataValidation:
            validations.append(
                {
                    "type": dv.type,
                    "formula1": dv.formula1,
                    "sqref": str(dv.sqref),
                    "allow_blank": bool(dv.allow_blank),
                    # openpyxl's showDropDown is the file's attribute, whose true means "hide the arrow".
                    "arrow_hidden": bool(dv.showDropDown),
                    "error_style": dv.errorStyle,
                    "show_error": bool(dv.showErrorMessage),
                }
            )
        widths = {}
        for index in range(1, sheet.max_column + 1):
            letter = get_column_letter(index)
            dimension = sheet.column_dimensions.get(letter)
            if dimension is not None and dimension.width:
                widths[letter] = dimension.width
        sheets.append(
            {
                "name": sheet.title,
                "state": sheet.sheet_state,
                "protected": bool(sheet.protection.sheet),
                "protection_password": sheet.protection.password,
                "freeze_panes": sheet.freeze_panes,
                "max_row": sheet.max_row,
                "max_column": sheet.max_column,
                "orientation": sheet.page_setup.orientation,
                "fit_to_width": sheet.page_setup.fitToWidth,
                "fit_to_height": sheet.page_setup.fitToHeight,
                "fit_to_page": bool(sheet.sheet_properties.pageSetUpPr.fitToPage)
                if sheet.sheet_properties.pageSetUpPr is not None
                else False,
                "print_title_rows": sheet.print_title_rows,
                "widths": widths,
                "validations": validations,
                "cells": cells,
            }
        )
    report = {
        "openpyxl": openpyxl.__version__,
        "warnings": [str(w.message) for w in caught],
        "active": book.active.title,
        "sheets": sheets,
    }
    json.dump(report, sys.stdout)


def fill(path, out, edits_path):
    with open(edits_path, encoding="utf-8") as f:
        edits = json.load(f)
    book = openpyxl.load_workbook(path)
    for target, value in edits.items():
        sheet_name, cell = target.split("!", 1)
        if isinstance(value, dict):
            value = datetime.date.fromisoformat(value["date"])
        book[sheet_name][cell].value = value
    book.save(out)


def main(argv):
    if len(argv) == 3 and argv[1] == "inspect":
        inspect(argv[2])
    elif len(argv) == 5 and argv[1] == "fill":
        fill(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
