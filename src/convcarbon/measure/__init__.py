"""Measuring: training under CodeCarbon, the machine at rest, provenance and the results store."""
