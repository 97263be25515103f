"""What the original tutorial reported: cited data, not measurements of this project.

Source: Nicholas Kluge Corrêa, "Architectural choices in computer vision and
their impact on energy consumption", Teeny-Tiny Castle (notebook
ML-Accountability/CO2-Emission-tracking/carbon_emission_cv.ipynb). One run of
each model on Google Colab with an NVIDIA T4 GPU, TensorFlow 2.15, and
CodeCarbon's online EmissionsTracker (grid located from the IP address).
The values are copied from the notebook's published output table.
"""

TUTORIAL_CITATION_KEY = "kluge2023architectural"
TUTORIAL_SETUP = "Google Colab, NVIDIA T4 GPU, TensorFlow 2.15, online EmissionsTracker, one run per model"

# metric -> (Conv2D, SeparableConv2D), in the units of this package's comparison table.
TUTORIAL_REPORTED = {
    "accuracy": (0.9931, 0.9895),
    "loss": (0.0235841, 0.0362006),
    "duration": (83.0816, 40.3688),
    "energy_consumed": (0.00216531, 0.00122606),
    "emissions": (0.00105654, 0.000598241),
    "emissions_rate": (1.27168e-05, 1.48194e-05),
}
