"""Times TensorFlow's Keras on a saved model: model(x) in a loop, as bench/README.md reports it.

/work/kv/bin/python tools/keras/time_keras.py MODEL.keras INPUT.npy --batch 1 --threads 1 [--seconds 3] [--graph]
Prints one line: model, batch, threads, median ms per call (5 runs of >= seconds/5 each, after a warm-up).
"""
import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("input")
p.add_argument("--batch", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=3.0)
p.add_argument("--graph", action="store_true", help="wrap model(x) in tf.function (no eager overhead)")
a = p.parse_args()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(a.threads)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras  # noqa: E402

m = keras.saving.load_model(a.model)
x = tf.constant(np.load(a.input)[: a.batch])
call = tf.function(lambda t: m(t, training=False)) if a.graph else (lambda t: m(t, training=False))
for _ in range(20):
    call(x)
runs = []
for _ in range(5):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds / 5:
        call(x)
        n += 1
    runs.append((time.perf_counter() - t0) / n * 1e3)
mode = "tf.function" if a.graph else "eager"
print(f"{os.path.basename(a.model)} batch {a.batch} threads {a.threads} {mode}: {sorted(runs)[2]:.3f} ms")
