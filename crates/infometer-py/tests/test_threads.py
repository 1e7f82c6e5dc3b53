"""The GIL is released during computation: two Python threads overlap in time."""

import threading
import time

import numpy as np

import infometer as im


def test_two_threads_overlap(rng):
    logits = rng.standard_normal((2000, 2000)).astype(np.float32)
    labels = rng.integers(0, 2000, 2000)
    im.analyze(logits, labels)  # warm up
    spans = []

    def work():
        start = time.perf_counter()
        for _ in range(3):
            im.analyze(logits, labels)
        spans.append((start, time.perf_counter()))

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    (a0, a1), (b0, b1) = spans
    # the second thread started before the first finished: both ran at once
    assert max(a0, b0) < min(a1, b1)
