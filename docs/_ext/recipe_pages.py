"""Sphinx extension: one page per paper recipe, generated from ``recipes/*/README.md`` as the build starts.

At ``builder-inited`` every ``recipes/<name>/README.md`` is copied to ``docs/recipes/<name>.md``, and
``docs/recipes/index.md`` is written from ``recipes/README.md`` followed by a toctree of those pages. The copies
are git-ignored build inputs; a page whose recipe is gone is deleted.

A README is written for the repository, so its relative links are rewritten in the copy:

- a link to another recipe's README (``../lita/README.md`` or ``lita/README.md``) becomes a link to its page;
- an image next to the README is copied beside the page (``docs/recipes/<name>/...``);
- any other relative link (a YAML file, a folder) becomes plain text naming the file in the repository.

Absolute links (``https:``, ``mailto:``) and in-page anchors are kept. No link of a copy can point outside the
documentation, so a ``-W`` build does not fail on a README's repository-relative link.
"""

import re
import shutil
from pathlib import Path, PurePosixPath

from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
RECIPES = REPO / "recipes"
PAGES = DOCS / "recipes"

LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
"""A Markdown link or image with a target and no title."""

ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)
"""Targets left alone: with a scheme (``https:``, ``mailto:``), an in-page anchor, a site-absolute path."""


def recipe_readmes() -> dict[str, Path]:
    """``recipe name -> README`` of every recipe folder that has one, in name order."""
    return {path.parent.name: path for path in sorted(RECIPES.glob("*/README.md"))}


def _rewrite_link(match: re.Match, folder: Path, page_folder: str, names: set[str]) -> str:
    """The replacement of one link of a README that lives in ``folder`` (see the module docstring)."""
    image, text, target = match.group("image"), match.group("text"), match.group("target")
    if ABSOLUTE.match(target):
        return match.group(0)
    path, _, anchor = target.partition("#")
    resolved = (folder / path).resolve()
    if resolved.name == "README.md" and resolved.parent.parent == RECIPES and resolved.parent.name in names:
        return f"[{text}]({resolved.parent.name}.md{'#' + anchor if anchor else ''})"
    if image and resolved.is_file() and folder in resolved.parents:
        relative = PurePosixPath(resolved.relative_to(folder).as_posix())
        destination = PAGES / page_folder / relative if page_folder else PAGES / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resolved, destination)
        return f"![{text}]({PurePosixPath(page_folder) / relative if page_folder else relative})"
    shown = resolved.relative_to(REPO).as_posix() if REPO in resolved.parents else target
    return f"{text} (`{shown}`)" if text else f"`{shown}`"


def rewrite_links(markdown: str, folder: Path, page_folder: str, names: set[str]) -> str:
    """``markdown`` with its relative links rewritten for a page in ``docs/recipes``."""
    return LINK.sub(lambda match: _rewrite_link(match, folder, page_folder, names), markdown)


def _write(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (an unchanged page is not re-read by Sphinx)."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def index_page(names: list[str]) -> str:
    """``docs/recipes/index.md``: ``recipes/README.md`` (or a title) and a toctree of the recipe pages."""
    overview = RECIPES / "README.md"
    text = rewrite_links(overview.read_text(encoding="utf-8"), RECIPES, "", set(names)) if overview.is_file() else ""
    text = text.rstrip() + "\n" if text.strip() else "# Recipes\n"
    toctree = "\n".join(["```{toctree}", ":maxdepth: 1", "", *names, "```"])
    return f"{text}\n{toctree}\n"


def generate_pages(app: Sphinx | None = None) -> list[Path]:
    """Write every recipe page and the index; delete pages of recipes that no longer exist.

    Args:
        app: The Sphinx application (unused; the ``builder-inited`` signature).

    Returns:
        The index page, then the recipe pages.
    """
    readmes = recipe_readmes()
    PAGES.mkdir(exist_ok=True)
    names = set(readmes)
    pages = []
    for name, readme in readmes.items():
        page = PAGES / f"{name}.md"
        _write(page, rewrite_links(readme.read_text(encoding="utf-8"), readme.parent, name, names))
        pages.append(page)
    for stale in PAGES.glob("*.md"):
        if stale.stem != "index" and stale.stem not in names:
            stale.unlink()
    index = PAGES / "index.md"
    _write(index, index_page(list(readmes)))
    return [index, *pages]


def setup(app: Sphinx) -> dict:
    """Generate the pages when the builder starts (before any source is read)."""
    app.connect("builder-inited", generate_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
