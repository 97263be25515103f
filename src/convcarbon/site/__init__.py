"""The book's pages: what a chapter shows, the numbers it glues, its figures, and the Sphinx extension."""

STAGE = "publish"
