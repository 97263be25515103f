# An Otter-Grader test file (OK format): the question "multiplications" of the costs chapter's exercise.
# It runs in the student's own kernel (`grader.check("multiplications")`), where `my_count` holds the answer.
OK_FORMAT = True

test = {
    "name": "multiplications",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> from convcarbon.course import checks
>>> result = checks.check_multiplications(my_count)
>>> result.passed or print(result.text())
True
""",
                    "hidden": False,
                    "locked": False,
                }
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
