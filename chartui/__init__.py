"""chartui: a terminal playground for character-level language models."""

import os

# NumPy steps generation one character at a time; multi-threaded BLAS only adds thread wake-ups
# there (and fights the training threads for the two cores). Set before NumPy is first imported;
# a value the user chose is kept. PyTorch uses its own thread pool and is not affected.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# PyTorch's OpenMP threads (GNU libgomp) spin a long while waiting for work. With two training
# processes on two cores (two browser tabs, the app and a headless run) each spins on the core
# the other needs: 40 bf16 steps took 63 s instead of 5 s. A short spin (set before torch is
# imported) brings that to 7 s for a few per cent of a lone run's speed.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

__version__ = "0.1.0"
