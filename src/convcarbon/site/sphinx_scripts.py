"""A Sphinx extension that drops repeated <script> entries from every page.

With jupyter-book 1.0.4, sphinx-thebe 0.3.1 and Sphinx 7.4, sphinx-thebe's
inline configuration script is added to each page twice. The second copy
redeclares `const THEBE_JS_URL`, which the browser reports as an error.
The copies differ only in how they spell "no file" (None or ""), so they are
matched on source and body.
"""


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of the scripts with the same source and body."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    unique = {}
    for script in scripts:
        source = getattr(script, "filename", script) or ""  # inline scripts carry None or ""
        key = (str(source), tuple(sorted(getattr(script, "attributes", {}).items())))
        unique.setdefault(key, script)
    scripts[:] = unique.values()  # in place: the builder adds per-page scripts to this same list


def setup(app):
    # Early: Sphinx stops calling html-page-context handlers once one returns a template.
    app.connect("html-page-context", _drop_repeated_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
