"""The DateTime component's entry point: componentize-py looks up `Tool` here."""

import dates
from guest import export_tool

Tool = export_tool(dates.SPEC, dates.run)
