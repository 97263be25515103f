"""How energy is obtained: CodeCarbon's tracker, the wattages it assumes, the machine at rest, and hardware
energy counters."""

STAGE = "measure"
