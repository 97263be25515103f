"""A training step taken apart (time per layer) and the cost of predictions, after training."""
