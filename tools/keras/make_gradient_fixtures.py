#!/usr/bin/env python3
"""TensorFlow's own gradients of Keras Conv1D/Conv2D layers, as fixtures for conv4j's tests.

For each case: a Keras layer with the case's parameters, random x, kernel, bias and output
gradient dy (seeded), and tf.GradientTape's dL/dx, dL/dW and dL/db of L = sum(dy * layer(x)),
computed in float64 and in float32. Writes, per case, a directory under OUT (default: the CLI
module's test resources, gradients/) holding case.properties (the layer's flags) and float32 .npy
files: x, kernel, bias (if any), dy, and dx, dkernel, dbias from the float64 run (rounded once) and
from the float32 run (suffix _f32).

Run: /work/kv/bin/python tools/keras/make_gradient_fixtures.py [OUT]
(keras 3.15.1, tensorflow-cpu 2.21.0). Rerunning rewrites the same files.
"""
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "java", "cli", "src", "test", "resources", "gradients")

# name, rank, input shape (layer's data format), filters, kernel, strides, padding, dilation, groups,
# use_bias, activation, data_format
CASES = [
    ("c1_valid", 1, (2, 9, 3), 4, 3, 1, "valid", 1, 1, True, "linear", "channels_last"),
    ("c1_same_s2", 1, (2, 10, 3), 5, 4, 2, "same", 1, 1, True, "relu", "channels_last"),
    ("c1_causal_d3", 1, (1, 12, 2), 3, 3, 1, "causal", 3, 1, True, "linear", "channels_last"),
    ("c1_causal_relu", 1, (2, 11, 4), 4, 2, 1, "causal", 2, 2, False, "relu", "channels_last"),
    ("c1_depthwise", 1, (2, 8, 4), 4, 3, 1, "same", 1, 4, True, "linear", "channels_last"),
    ("c1_first_s3", 1, (2, 3, 13), 2, 5, 3, "valid", 1, 1, True, "relu", "channels_first"),
    ("c2_valid", 2, (2, 6, 7, 3), 4, (3, 3), (1, 1), "valid", (1, 1), 1, True, "linear", "channels_last"),
    ("c2_same_s2", 2, (2, 7, 8, 2), 3, (3, 2), (2, 2), "same", (1, 1), 1, True, "relu", "channels_last"),
    ("c2_same_s21", 2, (1, 9, 6, 3), 2, (4, 3), (2, 1), "same", (1, 1), 1, False, "linear", "channels_last"),
    ("c2_dilated", 2, (2, 9, 9, 2), 3, (3, 3), (1, 1), "same", (2, 3), 1, True, "relu", "channels_last"),
    ("c2_groups", 2, (2, 6, 6, 6), 4, (3, 3), (1, 1), "valid", (1, 1), 2, True, "linear", "channels_last"),
    ("c2_depthwise_s2", 2, (1, 8, 7, 5), 10, (3, 3), (2, 2), "same", (1, 1), 5, True, "relu", "channels_last"),
    ("c2_1x1", 2, (3, 4, 5, 6), 7, (1, 1), (1, 1), "valid", (1, 1), 1, True, "linear", "channels_last"),
    ("c2_first", 2, (2, 3, 7, 6), 4, (3, 3), (1, 2), "same", (1, 1), 1, True, "relu", "channels_first"),
    ("c2_first_groups", 2, (1, 4, 6, 6), 6, (2, 2), (1, 1), "valid", (2, 2), 2, False, "linear", "channels_first"),
    ("c2_long_sum", 2, (4, 24, 24, 3), 2, (3, 3), (1, 1), "same", (1, 1), 1, True, "linear", "channels_last"),
]


def tup(v, rank):
    return tuple(v) if isinstance(v, tuple) else (v,) * rank


def gradients(layer_args, rank, x, kernel, bias, dy, dtype):
    if layer_args["data_format"] == "channels_first":
        # TensorFlow's CPU convolution has no NCHW kernel: run the channels_last layer on the
        # transposed tensors (what channels_first means) and transpose dx back.
        to_last = (0,) + tuple(range(2, rank + 2)) + (1,)
        to_first = (0, rank + 1) + tuple(range(1, rank + 1))
        args = dict(layer_args, data_format="channels_last")
        grads = gradients(args, rank, x.transpose(to_last), kernel, bias, dy.transpose(to_last), dtype)
        return [grads[0].transpose(to_first)] + grads[1:]
    cls = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D
    layer = cls(dtype=dtype, **layer_args)
    xt = tf.constant(x.astype(dtype))
    layer.build(xt.shape)
    layer.kernel.assign(kernel.astype(dtype))
    if bias is not None:
        layer.bias.assign(bias.astype(dtype))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        loss = tf.reduce_sum(y * tf.constant(dy.astype(dtype)))
    grads = tape.gradient(loss, [xt, layer.kernel] + ([layer.bias] if bias is not None else []))
    return [g.numpy() for g in grads]


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for index, (name, rank, shape, filters, k, s, padding, d, groups, use_bias, act, fmt) in enumerate(CASES):
        rng = np.random.default_rng(1500 + index)
        k, s, d = tup(k, rank), tup(s, rank), tup(d, rank)
        cin = shape[-1] if fmt == "channels_last" else shape[1]
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        kernel = rng.uniform(-1, 1, k + (cin // groups, filters)).astype(np.float32)
        bias = rng.uniform(-1, 1, (filters,)).astype(np.float32) if use_bias else None
        args = dict(filters=filters, kernel_size=k, strides=s, padding=padding, dilation_rate=d, groups=groups,
                    use_bias=use_bias, activation=act, data_format=fmt)
        # dy needs the output's shape: one forward pass in float64 first.
        last = dict(args, data_format="channels_last")
        shape_last = shape if fmt == "channels_last" else (shape[0],) + shape[2:] + (shape[1],)
        y_last = (keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D)(**last).compute_output_shape(shape_last)
        y_shape = y_last if fmt == "channels_last" else (y_last[0], y_last[-1]) + tuple(y_last[1:-1])
        dy = rng.uniform(-1, 1, y_shape).astype(np.float32)
        g64 = gradients(args, rank, x, kernel, bias, dy, "float64")
        g32 = gradients(args, rank, x, kernel, bias, dy, "float32")
        case_dir = os.path.join(out, name)
        os.makedirs(case_dir)
        tensors = {"x": x, "kernel": kernel, "dy": dy, "dx": g64[0], "dkernel": g64[1], "dx_f32": g32[0],
                   "dkernel_f32": g32[1]}
        if use_bias:
            tensors.update(bias=bias, dbias=g64[2], dbias_f32=g32[2])
        for key, value in tensors.items():
            np.save(os.path.join(case_dir, key + ".npy"), np.ascontiguousarray(value, dtype="<f4"))
        with open(os.path.join(case_dir, "case.properties"), "w") as f:
            f.write("# %s: tf.GradientTape on keras.layers.Conv%dD, keras %s, tensorflow %s\n"
                    % (name, rank, keras.__version__, tf.__version__))
            f.write("rank=%d\nstrides=%s\npadding=%s\ndilation=%s\ngroups=%d\nactivation=%s\ndata_format=%s\n"
                    % (rank, ",".join(map(str, s)), padding, ",".join(map(str, d)), groups,
                       "relu" if act == "relu" else "none", fmt))
        print("%-16s x %s -> dy %s" % (name, shape, tuple(y_shape)))


if __name__ == "__main__":
    main()
