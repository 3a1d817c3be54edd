"""The Calculator component's entry point: componentize-py looks up `Tool` here."""

import calc
from guest import export_tool

Tool = export_tool(calc.SPEC, calc.run)
