"""Each chapter as a Jupyter notebook (.ipynb) next to its MyST Markdown source.

Colab opens only .ipynb files, and Binder opens .md files as notebooks only with
jupytext. The theme's launch buttons name the .ipynb when one sits next to a
page's source, and the Pages workflow publishes these to the `notebooks` branch
that the buttons point at, so the .md files stay the only source.
"""

from __future__ import annotations

from pathlib import Path


def write_notebooks(chapters_dir: Path) -> list[Path]:
    """Write `<chapter>.ipynb` for every MyST notebook chapter (one with a kernelspec) in the folder."""
    import jupytext

    written = []
    for source in sorted(Path(chapters_dir).glob("*.md")):
        notebook = jupytext.read(source, fmt="md:myst")
        if "kernelspec" not in notebook.metadata:
            continue  # a page without code, not a notebook
        notebook.metadata.pop("jupytext", None)  # the .ipynb stands alone, unpaired
        target = source.with_suffix(".ipynb")
        text = jupytext.writes(notebook, fmt="ipynb")
        if not target.exists() or target.read_text() != text:  # unchanged files keep their time stamps
            target.write_text(text)
        written.append(target)
    return written
