"""Physical checks of an atlas record: what no honest timing can show, counted and listed.

Two rules hold on any machine, whatever its load:

- at the same shape and layer, the training pass takes at least as long as the inference pass (it does the forward
  pass and more);
- no point runs faster than the ceilings it is drawn against: its work (`atlas_grid.work_macs`, `work_bytes`, the
  rule of `costs`) divided by the matrix-product rate and by the copy bandwidth gives a time it cannot beat.

A violation means a timing or a ceiling is wrong (a busy machine slowed one pass or the ceiling's measurement, say).
Pure functions of a record dict, so that the committed schema-1 atlases are checked as new ones are: `run_atlas`
stores the result in the record (`checks`), and the atlas chapter shows it for every atlas.

Used by: book/atlas.md
"""

from __future__ import annotations

from .grid import Shape, input_gradient_timed, work_bytes, work_macs

TRAINING_FASTER = "training faster than inference"
ABOVE_CEILING = "faster than the ceilings"
CHECKS = (TRAINING_FASTER, ABOVE_CEILING)
SHAPE_FIELDS = tuple(Shape.__dataclass_fields__)


def drawn_ceilings(record: dict) -> tuple[str, float, float]:
    """(what the ceilings are, MACs per second, bytes per second): the ceilings the roofline is drawn against."""
    ceilings = record["ceilings"]
    if "backend" in ceilings:  # schema 2: every measurement kept, NumPy's beside
        name = (
            f"the {record['versions']['keras_backend']} backend's own best, through Keras: "
            f"{len(ceilings['backend']['matmul'])} matrix products (squares and convolution-shaped) and "
            f"{len(ceilings['backend']['copy'])} copies of several sizes; the machine's best, NumPy's BLAS, "
            f"reached {ceilings['machine_matmul_macs_per_s'] / 1e9:.0f} billion MAC/s"
        )
        return name, ceilings["matmul_macs_per_s"], ceilings["copy_bytes_per_s"]
    size, copied = ceilings["matmul_size"], ceilings["copy_bytes"]
    name = (
        f"the {record['versions']['keras_backend']} backend's own, through Keras: "
        f"a {size}x{size} matrix product and a copy of {copied // 2**20} MiB, the better of two measurements"
    )
    return name, ceilings["matmul_macs_per_s"], ceilings["copy_bytes_per_s"]


def point_shape(point: dict) -> Shape:
    return Shape(**{field: point[field] for field in SHAPE_FIELDS})


def point_work(record: dict, point: dict) -> tuple[int, int]:
    """(multiply-accumulates, bytes) of one call of the point's pass, as the record's timing ran it."""
    shape = point_shape(point)
    input_gradient = input_gradient_timed(record["schema_version"], point["book_layer"])
    return (
        work_macs(shape, point["layer"], point["pass"], input_gradient),
        work_bytes(shape, point["layer"], point["pass"], input_gradient),
    )


def roofline_s(record: dict, point: dict) -> float:
    """The shortest time the point's work can take under the drawn ceilings."""
    _, macs_per_s, bytes_per_s = drawn_ceilings(record)
    point_macs, point_bytes = point_work(record, point)
    return max(point_macs / macs_per_s, point_bytes / bytes_per_s)


def _violation(check: str, point: dict, measured_s: float, bound_s: float) -> dict:
    return {
        "check": check,
        "layer": point["layer"],
        "pass": point["pass"],
        **{field: point[field] for field in SHAPE_FIELDS},
        "measured_s": measured_s,
        "bound_s": bound_s,
    }


def training_faster_violations(record: dict) -> list[dict]:
    """Every training point whose median is below the inference median of the same layer and shape."""
    inference = {
        (point["layer"], *(point[field] for field in SHAPE_FIELDS)): point["median_s"]
        for point in record["points"]
        if point["pass"] == "inference"
    }
    found = []
    for point in record["points"]:
        bound_s = inference.get((point["layer"], *(point[field] for field in SHAPE_FIELDS)))
        if point["pass"] == "training" and bound_s is not None and point["median_s"] < bound_s:
            found.append(_violation(TRAINING_FASTER, point, point["median_s"], bound_s))
    return found


def ceiling_violations(record: dict) -> list[dict]:
    """Every point whose median is below the time its work needs at the drawn ceilings."""
    found = []
    for point in record["points"]:
        bound_s = roofline_s(record, point)
        if point["median_s"] < bound_s:
            found.append(_violation(ABOVE_CEILING, point, point["median_s"], bound_s))
    return found


def physical_checks(record: dict) -> dict:
    """What `run_atlas` stores as the record's `checks`: the ceilings checked against, and every violation."""
    return {
        "ceilings": drawn_ceilings(record)[0],
        "violations": training_faster_violations(record) + ceiling_violations(record),
    }


def violation_counts(checks: dict) -> dict[str, int]:
    """How many violations of each check."""
    return {check: sum(item["check"] == check for item in checks["violations"]) for check in CHECKS}
