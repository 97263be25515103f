"""The experiment: both models trained under CodeCarbon, its record, and the comparison of runs and machines."""
