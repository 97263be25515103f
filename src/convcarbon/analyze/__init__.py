"""Analysing stored records: medians, ratios with intervals, reports, machines side by side."""
