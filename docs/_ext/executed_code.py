"""Sphinx directive ``python-run``: show a Python snippet, run it during the build, show its output.

The snippet runs in a fresh namespace each time; an exception is reported as a docs error, so a
``-W`` build fails when a page's code stops working. Keep snippets CPU-only and well under a second.
"""

import contextlib
import io
import traceback

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class PythonRunDirective(SphinxDirective):
    """Literal block of the code, then a literal block of what it printed (if anything)."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        """Execute the content and return the code and output blocks."""
        code = "\n".join(self.content)
        out = io.StringIO()
        where = f"<{self.env.docname}.md, line {self.lineno}>"
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, where, "exec"), {"__name__": "__docs__"})  # our own pages' code
        except Exception as error:
            detail = "".join(traceback.format_exception_only(error)).strip()
            raise self.error(f"the code block failed: {detail}") from error
        blocks = [nodes.literal_block(code, code, language="python")]
        printed = out.getvalue().rstrip("\n")
        if printed:
            blocks.append(nodes.literal_block(printed, printed, language="text"))
        for block in blocks:
            self.set_source_info(block)
        return blocks


def setup(app: Sphinx) -> dict:
    """Register the directive."""
    app.add_directive("python-run", PythonRunDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
