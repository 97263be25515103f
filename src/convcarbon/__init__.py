"""convcarbon: the multiplications, time, energy and CO2 of Conv2D against SeparableConv2D."""

__version__ = "0.1.0"
