"""For a class: the checked exercises, the grading of hand-ins, and a class's records side by side.

`checks` holds the checks (plain Python, run in a notebook, no server); `grade` runs them over a folder of
hand-ins (`python -m convcarbon grade HANDINS_DIR`); Otter-Grader test files call `checks` too
(book/instructors.md). `classtable` sets a class's training records and atlases side by side
(`python -m convcarbon report --class-table DIR`), and `class_figure` draws the class's crossovers.

The room sits on top of the house: it reads records, analyses them and draws, so it is of the publish stage
(nothing below imports it).
"""

STAGE = "publish"
