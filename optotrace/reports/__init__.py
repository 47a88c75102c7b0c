"""Seeing a run: `write_report(run_dir)` writes a self-contained report.html from what the Trainer wrote.

Files: run_data (reading a run directory), sections and html_report (the page), svg_chart (curves),
diffs (old and new values), generic (unknown fields as tables), mlflow_log (optional MLflow logging).
Imports only trace (to draw a graph); cli wires it to the commands.
"""

from optotrace.reports.html_report import REPORT_NAME, render_report, write_report
from optotrace.reports.run_data import ReportError, RunData, load_run

__all__ = ["REPORT_NAME", "ReportError", "RunData", "load_run", "render_report", "write_report"]
