"""The Files component's entry point: componentize-py looks up `Tool` here."""

import fileops
from guest import export_tool

Tool = export_tool(fileops.SPEC, fileops.run)
