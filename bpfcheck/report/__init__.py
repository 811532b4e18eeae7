"""The HTML report of a corpus run: pages, the control-flow graph as SVG."""

from .write import write_report

__all__ = ["write_report"]
