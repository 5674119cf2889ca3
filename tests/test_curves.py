import numpy as np

from chartui.curves import downsample, since, smooth


def test_downsample_averages_buckets_and_keeps_short_series():
    steps, values = downsample(range(1, 11), range(1, 11), 3)
    assert steps.tolist() == [3, 6, 10] and values.tolist() == [2, 5, 8.5]
    steps, values = downsample([1, 2], [5.0, 6.0], 10)
    assert steps.tolist() == [1, 2] and values.tolist() == [5, 6]
    steps, values = downsample(np.arange(100_000), np.ones(100_000), 240)
    assert len(steps) == 240 and np.allclose(values, 1) and steps[-1] == 99_999


def test_smooth_starts_at_the_first_value_and_follows():
    assert smooth([4.0, 4.0, 4.0]) == [4.0, 4.0, 4.0]
    out = smooth([1.0] * 50 + [0.0] * 50, 0.9)
    assert out[0] == 1.0 and out[60] < 0.5


def test_since_keeps_the_points_from_a_step_on_without_copying():
    steps, values = np.arange(1.0, 11.0), np.arange(10.0, 20.0)
    recent_steps, recent_values = since(steps, values, 5.5)
    assert recent_steps.tolist() == [6, 7, 8, 9, 10] and recent_values.tolist() == [15, 16, 17,
                                                                                     18, 19]
    assert np.shares_memory(recent_steps, steps)
    assert since(steps, values, 11)[0].size == 0 and since([], [], 3)[0].size == 0
