#!/usr/bin/env python3
"""Keras 3's own SGD and Adam updates, as a fixture for conv4j's optimizer tests.

For each optimizer: a float32 keras.Variable of 48 random weights, 6 steps of random gradients
(seeded; step 3 zeroes every third gradient), applied with optimizer.apply_gradients; records
the weights after every step. Writes one text file, optimizer_steps.txt, with lines
  case <name> <kind> <learning_rate> <momentum|beta1> <beta2> <epsilon>
  w0 <48 floats>
  g <step> <48 floats>
  w <step> <48 floats>
Floats are numpy's shortest float32 strings (Java's Float.parseFloat gives back the same float).

Run: /work/kv/bin/python tools/keras/make_optimizer_fixtures.py [OUT_DIR]
(keras 3.15.1, tensorflow-cpu 2.21.0). Rerunning rewrites the same file.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "java", "src", "test", "resources", "org", "conv4j")

# name, kind, learning rate, momentum or beta1, beta2, epsilon
CASES = [
    ("sgd_plain", "sgd", 0.05, 0.0, 0.0, 0.0),
    ("sgd_momentum", "sgd", 0.05, 0.9, 0.0, 0.0),
    ("adam_default", "adam", 0.01, 0.9, 0.999, 1e-7),
    ("adam_custom", "adam", 0.003, 0.5, 0.75, 0.25),
]
COUNT = 48
STEPS = 6


def floats(values):
    return " ".join(str(v) for v in np.asarray(values, dtype=np.float32))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    rng = np.random.default_rng(20261205)
    lines = []
    for name, kind, lr, a, b, eps in CASES:
        if kind == "sgd":
            opt = keras.optimizers.SGD(learning_rate=lr, momentum=a)
        else:
            opt = keras.optimizers.Adam(learning_rate=lr, beta_1=a, beta_2=b, epsilon=eps)
        w0 = rng.uniform(-1, 1, COUNT).astype(np.float32)
        var = keras.Variable(w0, dtype="float32")
        lines.append(f"case {name} {kind} {lr!r} {a!r} {b!r} {eps!r}")
        lines.append("w0 " + floats(w0))
        for step in range(1, STEPS + 1):
            g = rng.uniform(-2, 2, COUNT).astype(np.float32)
            if step == 3:
                g[::3] = 0
            opt.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
            lines.append(f"g {step} " + floats(g))
            lines.append(f"w {step} " + floats(np.asarray(var.numpy())))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "optimizer_steps.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
