"""When the command started: read first thing, so that --max-time counts start-up too."""

import time

STARTED_AT = time.perf_counter()
