"""Which glue keys each chapter places: the one declaration of the book's glue surface.

A chapter glues through `book.glue_texts(texts, chapter=...)`, which glues only the keys declared here
for that chapter, so no key is glued and placed nowhere. tests/test_glue_keys.py holds every chapter
to its list both ways (each key its Markdown places is declared, each declared key is placed, and each
declared key is made by the code that glues it); tests/test_book.py checks the keys the built book glued.
A new glued number is added here and placed in its chapter's Markdown, in the same commit.

Used by: publish.book (glue_texts, glue_numbers), every chapter that glues.
"""

from __future__ import annotations

CHAPTER_GLUE_KEYS: dict[str, frozenset[str]] = {
    "atlas": frozenset(
        {
            "atlas_book_conv1_inference_ratio",
            "atlas_book_conv1_mac_ratio",
            "atlas_book_conv1_training_ratio",
            "atlas_book_conv2_inference_ratio",
            "atlas_book_conv2_mac_ratio",
            "atlas_book_conv2_training_ratio",
            "atlas_copy_bandwidth",
            "atlas_crossover_k3_batch1_inference",
            "atlas_crossover_k3_training",
            "atlas_crossover_k7_training",
            "atlas_machine",
            "atlas_machine_count",
            "atlas_matmul_rate",
            "atlas_missing_classes",
            "atlas_model_error",
            "atlas_never_count",
            "atlas_profile",
            "atlas_ridge",
            "atlas_separable_efficiency",
            "atlas_separable_fixed",
            "atlas_standard_efficiency",
            "atlas_standard_fixed",
            "atlas_training_batch",
        }
    ),
    "costs": frozenset(
        {
            "conv2d_mults",
            "conv2d_params",
            "conv_mult_share",
            "dense_param_share",
            "mult_ratio",
            "param_ratio",
            "separable_mults",
            "separable_params",
            "worked_depthwise",
            "worked_formula",
            "worked_pointwise",
            "worked_ratio",
            "worked_separable",
            "worked_standard",
        }
    ),
    "ethics": frozenset(
        {
            "conv2d_break_even_b1",
            "conv2d_break_even_batch",
            "conv2d_break_even_time_b1",
            "conv2d_break_even_time_batch",
            "conv2d_prediction_energy_b1",
            "emissions_difference_phrase",
            "emissions_ratio_text",
            "inference_batch_size",
            "inference_test_images",
            "mistakes_phrase",
            "prediction_energy_kind",
            "prediction_energy_ratio_b1",
            "prediction_energy_ratio_batch",
            "prediction_energy_shares",
            "prediction_time_ratio_b1",
            "prediction_time_ratio_batch",
            "separable_break_even_b1",
            "separable_break_even_batch",
            "separable_break_even_time_b1",
            "separable_break_even_time_batch",
            "separable_prediction_energy_b1",
            "training_energy_shares",
        }
    ),
    "experiment": frozenset(
        {
            "accuracy_gap_points",
            "conv2d_accuracy",
            "conv2d_energy_wh",
            "duration_ratio_text",
            "emissions_rate_ratio_text",
            "energy_ratio_text",
            "repeats",
            "separable_accuracy",
            "separable_energy_wh",
            "training_energy_shares",
        }
    ),
    "instructors": frozenset(
        {
            "class_atlas_count",
            "class_crossover_figure",
            "quick_epochs",
            "record_limit_mb",
            "seed_epochs",
            "seed_pair_epochs",
            "smoke_epochs",
        }
    ),
    "measuring": frozenset(
        {
            "carbon_intensity",
            "cpu_method",
            "gpu_method",
            "measured_or_estimated",
            "ram_method",
            "training_energy_shares",
        }
    ),
    "results": frozenset(
        {
            "above_idle_ratio_text",
            "anatomy_conv2d_first_epoch_s",
            "anatomy_conv2d_later_epoch_s",
            "anatomy_separable_first_epoch_s",
            "anatomy_separable_later_epoch_s",
            "breakdown_batch_size",
            "carbon_intensity",
            "clean_up_max_s",
            "clean_up_min_s",
            "conv2d_clean_up_s",
            "conv2d_convolution_share",
            "conv2d_dense_share",
            "conv2d_first_epoch_s",
            "conv2d_later_epoch_s",
            "conv2d_overhead_share",
            "conv2d_parts_share",
            "conv2d_step_s",
            "conv2d_throughput_g",
            "conv2d_warm_up_factor",
            "duration_ratio_text",
            "energy_ratio_text",
            "footprint_emissions",
            "footprint_energy",
            "footprint_epochs",
            "footprint_estimated",
            "footprint_measurements",
            "footprint_records",
            "footprint_runs",
            "footprint_unmeasured",
            "gpu_counter_machines",
            "idle_power_w",
            "idle_share",
            "later_epoch_ratio_text",
            "machine",
            "multiplication_ratio",
            "saving_against_paper",
            "separable_clean_up_s",
            "separable_convolution_share",
            "separable_dense_share",
            "separable_first_epoch_s",
            "separable_later_epoch_s",
            "separable_overhead_share",
            "separable_parts_share",
            "separable_step_s",
            "separable_throughput_g",
            "separable_warm_up_factor",
            "throughput_ratio_text",
            "training_energy_shares",
            "tutorial_conv2d_duration_s",
            "tutorial_conv2d_epoch_sum_s",
            "tutorial_conv2d_first_epoch_s",
            "tutorial_conv2d_first_epoch_steps_s",
            "tutorial_conv2d_later_epoch_s",
            "tutorial_conv2d_outside_s",
            "tutorial_difference_s",
            "tutorial_duration_ratio",
            "tutorial_epoch_sum_difference_s",
            "tutorial_epoch_sum_error_s",
            "tutorial_epoch_sum_ratio",
            "tutorial_outside_difference_share",
            "tutorial_outside_difference_share_range",
            "tutorial_separable_duration_s",
            "tutorial_separable_epoch_sum_s",
            "tutorial_separable_first_epoch_s",
            "tutorial_separable_later_epoch_s",
            "tutorial_separable_outside_s",
            "tutorial_source",
            "tutorial_steps_outside_difference_share",
            "tutorial_steps_outside_difference_share_range",
            "tutorial_steps_per_epoch",
            "verdicts",
            "warm_up_reading",
        }
    ),
}


def chapter_glue_keys(chapter: str) -> frozenset[str]:
    """The keys `chapter` (a page's name, such as "results") places; a chapter not in the table is refused."""
    if chapter not in CHAPTER_GLUE_KEYS:
        raise ValueError(f"chapter {chapter!r} declares no glue keys; choose one of: {', '.join(CHAPTER_GLUE_KEYS)}")
    return CHAPTER_GLUE_KEYS[chapter]
