import numpy as np

from chartui.curves import downsample, smooth


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
