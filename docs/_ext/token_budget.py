"""Sphinx directive ``videolmm-tokens``: run the token budget tool while the page builds.

The directive takes the tool's command-line overrides as its argument, composes the same Hydra
configuration the console script would (``pkg://videolmm.conf``, config ``tokens``), calls the
body of ``videolmm.cli.tokens.main`` with it and shows the command and what it printed. Only the
Hydra application shell is skipped (argument parsing, run directory, logging set-up; the latter
would disable Sphinx's own loggers if it ran inside the build).

Options ``total`` and ``paper`` state the numbers the surrounding prose relies on; when the tool
prints anything else the directive reports an error, which fails a ``-W`` build::

    ```{videolmm-tokens} reducer=avg_pool_2x2 num_frames=32
    :total: 5408
    :paper: 5408
    ```
"""

import contextlib
import io
import re

from docutils import nodes
from hydra import compose, initialize_config_module
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from videolmm.cli import tokens

TOTAL = re.compile(r"^visual tokens: ([\d,]+)", re.MULTILINE)
PAPER = re.compile(r"^paper formula: ([\d,]+|n/a)", re.MULTILINE)


def run_tokens(overrides: list[str]) -> str:
    """What ``videolmm-tokens OVERRIDES`` prints."""
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="tokens", overrides=overrides)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tokens.main.__wrapped__(cfg)  # the function under @hydra.main
    return out.getvalue().rstrip("\n")


def _expected(text: str) -> str:
    """``5,408`` / ``5408`` -> ``5408``; ``n/a`` stays."""
    return text.strip().replace(",", "")


class TokensDirective(SphinxDirective):
    """Show ``$ videolmm-tokens ARGS`` and its output, checking the stated numbers."""

    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {"total": _expected, "paper": _expected}  # noqa: RUF012 (docutils API)
    has_content = False

    def run(self) -> list[nodes.Node]:
        """Run the tool and return a literal block with the command and its output."""
        overrides = self.arguments[0].split() if self.arguments else []
        command = f"videolmm-tokens {' '.join(overrides)}"
        try:
            printed = run_tokens(overrides)
        except Exception as error:  # any failure of the tool is a docs error
            raise self.error(f"{command} failed: {type(error).__name__}: {error}") from error
        for option, pattern in (("total", TOTAL), ("paper", PAPER)):
            if option not in self.options:
                continue
            match = pattern.search(printed)
            got = match.group(1).replace(",", "") if match else "nothing"
            if got != self.options[option]:
                raise self.error(f"{command}: the page expects {option} {self.options[option]}, the tool printed {got}")
        text = f"$ {command}\n{printed}"
        block = nodes.literal_block(text, text, language="text")
        self.set_source_info(block)
        return [block]


def setup(app: Sphinx) -> dict:
    """Register the directive."""
    app.add_directive("videolmm-tokens", TokensDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
