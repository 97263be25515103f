"""The per-epoch windows, against a tracker and a clock whose readings are known."""

from types import SimpleNamespace

import pytest

from convcarbon.energy import tracking
from convcarbon.training.measure import epochs
from convcarbon.training.measure.epochs import EpochMeter


class FakeTracker:
    """Hands out the given running totals (kWh), one per flush, as CodeCarbon's tracker would."""

    def __init__(self, totals_kwh, fail_at=None):
        self.totals_kwh, self.fail_at, self.flushes = list(totals_kwh), fail_at, 0
        self._total_energy = SimpleNamespace(kWh=0.0)

    def flush(self):
        self.flushes += 1
        if self.flushes == self.fail_at:
            raise RuntimeError("counter unreadable")
        self._total_energy.kWh = self.totals_kwh.pop(0)


@pytest.fixture
def clock(monkeypatch):
    """The energy windows' clock: it reads the given instants (s), one per call."""
    instants = []
    monkeypatch.setattr(tracking, "time", SimpleNamespace(perf_counter=lambda: instants.pop(0)))
    return instants


@pytest.fixture
def step_clock(monkeypatch):
    """The clock of the steps inside an epoch: it reads the given instants (s), one per call."""
    instants = []
    monkeypatch.setattr(epochs, "time", SimpleNamespace(perf_counter=lambda: instants.pop(0)))
    return instants


def end_epoch(meter, epoch):
    """An epoch of one step, as Keras calls the meter (the steps' own times are not looked at here)."""
    meter.on_epoch_begin(epoch)
    meter.on_train_batch_begin(0)
    meter.on_train_batch_end(0)
    meter.on_epoch_end(epoch)


def test_windows_are_back_to_back_and_add_up_to_the_whole_fit(clock):
    clock += [10.0, 13.0, 14.0, 14.25]
    meter = EpochMeter(FakeTracker([0.001, 0.004, 0.005, 0.0052]), "test")
    end_epoch(meter, 0)
    end_epoch(meter, 1)
    meter.end_of_fit()
    assert meter.durations_s == [3.0, 1.0]
    assert meter.energies_kwh == pytest.approx([0.003, 0.001])
    assert meter.clean_up_duration_s == 0.25
    assert meter.clean_up_energy_kwh == pytest.approx(0.0002)
    assert sum(meter.durations_s) + meter.clean_up_duration_s == 14.25 - 10.0
    assert sum(meter.energies_kwh) + meter.clean_up_energy_kwh == pytest.approx(0.0052 - 0.001)


def test_a_tracker_that_fails_mid_run_loses_the_energy_split_but_not_the_times(clock, capsys):
    clock += [0.0, 2.0, 3.0, 3.5]
    tracker = FakeTracker([0.001, 0.002], fail_at=3)
    meter = EpochMeter(tracker, "test")
    end_epoch(meter, 0)
    end_epoch(meter, 1)
    meter.end_of_fit()
    assert meter.durations_s == [2.0, 1.0] and meter.clean_up_duration_s == 0.5
    assert meter.energies_kwh[0] == pytest.approx(0.001)
    assert meter.energies_kwh[1] is None and meter.clean_up_energy_kwh is None  # missing, never zero
    assert tracker.flushes == 3  # not asked again once it failed
    warning = capsys.readouterr().err
    assert warning.count("WARNING") == 1 and "counter unreadable" in warning and "[test]" in warning


def test_without_a_tracker_only_times_are_recorded(clock):
    clock += [0.0, 1.5, 1.75]
    meter = EpochMeter(None, "test")
    end_epoch(meter, 0)
    meter.end_of_fit()
    assert meter.durations_s == [1.5] and meter.energies_kwh == [None]
    assert meter.clean_up_duration_s == 0.25 and meter.clean_up_energy_kwh is None


def test_each_epoch_is_timed_step_by_step(clock, step_clock):
    # Epoch 0: begin, two steps, validation; the same for epoch 1. The windows are cut at 2 s and 7.25 s.
    clock += [0.0, 2.0, 7.25]
    step_clock += [0.5, 1.0, 1.25, 1.25, 1.5, 1.5, 1.75]
    step_clock += [2.5, 6.0, 6.25, 6.25, 6.5, 6.5, 7.0]
    meter = EpochMeter(None, "test")
    for epoch in range(2):
        meter.on_epoch_begin(epoch)
        for step in range(2):
            meter.on_train_batch_begin(step)
            meter.on_train_batch_end(step)
        meter.on_test_begin()
        meter.on_test_end()
        meter.on_epoch_end(epoch)
    assert meter.durations_s == [2.0, 5.25]
    assert meter.steps[0] == {
        "steps": 2,
        "input_wait_s": 0.5,
        "first_step_s": 0.25,
        "median_step_s": 0.25,
        "steps_s": 0.5,
        "validation_s": 0.25,
    }
    assert meter.steps[1]["input_wait_s"] == 3.5  # a stall before the first step: a wait, not a slow step
    assert meter.steps[1]["median_step_s"] == 0.25 and meter.steps[1]["validation_s"] == 0.5
