"""Publishing the book: what chapters call, glued prose, figures, tables and the Sphinx extensions."""
