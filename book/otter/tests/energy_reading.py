# An Otter-Grader test file (OK format): the question "energy_reading" of the experiment chapter's exercise.
# It runs in the student's own kernel (`grader.check("energy_reading")`), where `my_reading` holds the answer.
# A failed check prints the check's feedback, which is what the student sees.
OK_FORMAT = True

test = {
    "name": "energy_reading",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> from convcarbon.course import checks
>>> from convcarbon.site import book
>>> result = checks.check_energy_reading(my_reading, book.current_record())
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
