"""The crossover atlas: when a separable layer pays, over a grid of shapes, against the machine's ceilings."""
