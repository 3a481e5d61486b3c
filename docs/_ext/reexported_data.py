"""Give re-exported module constants the docstring written where they are defined.

A package that re-exports a constant (say ``videolmm.pkg.LIMIT``, defined with its docstring in
``videolmm.pkg.limits``) has no attribute docstring of its own, so autodoc falls back to the
docstring of the value's type (``int``). This hook looks the attribute docstring up in the
package's already-imported submodules instead and, failing that, shows no docstring at all.
"""

import sys

from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docstrings import prepare_docstring


def _attribute_doc(module_name: str, attr: str) -> list[str] | None:
    """The ``#:`` comment or string literal documenting ``attr`` in ``module_name``, if any."""
    try:
        docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except Exception:  # no source (compiled or built-in module)
        return None
    return list(docs[("", attr)]) if ("", attr) in docs else None


def _defining_doc(package: str, attr: str, value: object) -> list[str] | None:
    """The attribute docstring of ``attr`` in the submodule of ``package`` that holds ``value``."""
    for name, module in list(sys.modules.items()):
        if name.startswith(package + ".") and getattr(module, attr, None) is value:
            doc = _attribute_doc(name, attr)
            if doc is not None:
                return doc
    return None


def fix_data_docstring(app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    """``autodoc-process-docstring`` hook for module-level data."""
    if what != "data" or "." not in name:
        return
    package, attr = name.rsplit(".", 1)
    if _attribute_doc(package, attr) is not None:
        return  # documented where autodoc looked
    doc = _defining_doc(package, attr, obj)
    lines[:] = prepare_docstring("\n".join(doc)) if doc else []


def setup(app: Sphinx) -> dict:
    """Register the hook."""
    app.connect("autodoc-process-docstring", fix_data_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
