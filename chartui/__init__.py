"""chartui: a terminal playground for character-level language models."""

import os

# NumPy steps generation one character at a time; multi-threaded BLAS only adds thread wake-ups
# there (and fights the training threads for the two cores). Set before NumPy is first imported;
# a value the user chose is kept. PyTorch uses its own thread pool and is not affected.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
