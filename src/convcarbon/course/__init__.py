"""Checked exercises: a student's answers checked against the counts and against the student's own records.

`checks` holds the checks (plain Python, run in a notebook, no server); `grade` runs them over a folder of
hand-ins (`python -m convcarbon grade HANDINS_DIR`). Otter-Grader test files call `checks` too
(book/instructors.md).
"""
