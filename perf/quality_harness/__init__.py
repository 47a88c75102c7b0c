"""The quality benchmark's machinery (perf/quality.py): proxy, server, systems registry, runs, reports."""
