#!/usr/bin/env python3
"""TensorFlow's own gradients of Keras convolution layers, as fixtures for conv4j's tests.

For each case: a Keras layer with the case's parameters, random x, kernel, bias and output
gradient dy (seeded), and tf.GradientTape's dL/dx, dL/dW and dL/db of L = sum(dy * layer(x)),
computed in float64 and in float32. Writes, per case, a directory under OUT (default: the CLI
module's test resources, gradients/) holding case.properties (the layer's flags) and float32 .npy
files: x, kernel, bias (if any), dy, and dx, dkernel, dbias from the float64 run (rounded once) and
from the float32 run (suffix _f32).

The rest of the family (Conv3D, ConvNDTranspose, DepthwiseConvND with a multiplier, SeparableConvND,
explicit pads as ZeroPadding + a valid conv) goes to OUT/../gradients-family/NAME: case.properties
holds the `grad` flags of the layer (args=...) and `terms`, a bound on the length of any sum behind a
gradient (two steps' worth for separable); the tensors as above plus pkernel/dpkernel (separable's
pointwise kernel) and mag_dx, mag_dkernel, ...: the same gradients in float64 of |x|, |W| and |dy|
masked by relu (each partial sum's magnitude is at most these), for the float bound.

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


# name, layer, rank, input shape (layer's data format), filters (conv, transpose, separable) or
# depth multiplier (depthwise), kernel, strides, padding (valid|same|explicit), pads (explicit: before,
# after per axis), dilation, output_padding (transpose; None), use_bias, activation, data_format
FAMILY = [
    ("c3_valid", "conv", 3, (2, 4, 5, 4, 2), 3, (2, 3, 2), (1, 1, 1), "valid", None, (1, 1, 1), None, True,
     "linear", "channels_last"),
    ("c3_same_s2_relu", "conv", 3, (1, 5, 4, 6, 3), 2, (3, 2, 3), (2, 1, 2), "same", None, (1, 1, 1), None, True,
     "relu", "channels_last"),
    ("c3_first_dilated", "conv", 3, (1, 2, 5, 5, 4), 3, (2, 2, 2), (1, 1, 1), "valid", None, (2, 1, 2), None, False,
     "linear", "channels_first"),
    ("t1_same_s2_op", "conv_transpose", 1, (2, 5, 3), 4, 3, 2, "same", None, 1, 1, True, "linear", "channels_last"),
    ("t1_valid_relu", "conv_transpose", 1, (1, 6, 2), 3, 3, 1, "valid", None, 1, None, True, "relu", "channels_last"),
    ("t2_valid_s2", "conv_transpose", 2, (2, 3, 4, 3), 2, (3, 3), (2, 2), "valid", None, (1, 1), None, True,
     "linear", "channels_last"),
    ("t2_same_s21_op_relu", "conv_transpose", 2, (1, 4, 3, 2), 3, (3, 3), (2, 1), "same", None, (1, 1), (1, 0),
     False, "relu", "channels_last"),
    ("t2_first_s3", "conv_transpose", 2, (1, 2, 3, 3), 2, (2, 4), (3, 2), "valid", None, (1, 1), (2, 1), True,
     "linear", "channels_first"),
    ("t3_same_s2", "conv_transpose", 3, (1, 2, 3, 2, 2), 2, (2, 3, 2), (2, 2, 1), "same", None, (1, 1, 1), None,
     True, "linear", "channels_last"),
    ("d1_mult3", "depthwise", 1, (2, 9, 2), 3, 3, 1, "same", None, 2, None, True, "linear", "channels_last"),
    ("d2_mult2_s2_relu", "depthwise", 2, (1, 7, 6, 3), 2, (3, 3), (2, 2), "same", None, (1, 1), None, True,
     "relu", "channels_last"),
    ("d2_first_mult2", "depthwise", 2, (2, 2, 6, 5), 2, (2, 3), (1, 1), "valid", None, (1, 1), None, False,
     "linear", "channels_first"),
    ("s1_mult2", "separable", 1, (2, 10, 3), 4, 3, 2, "same", None, 1, None, True, "linear", "channels_last"),
    ("s2_mult1_relu", "separable", 2, (1, 6, 7, 2), 3, (3, 3), (1, 1), "valid", None, (1, 1), None, True, "relu",
     "channels_last"),
    ("s2_first_mult2_d2", "separable", 2, (1, 3, 7, 7), 2, (2, 2), (1, 1), "same", None, (2, 2), None, False,
     "linear", "channels_first"),
    ("e1_pads", "conv", 1, (2, 7, 3), 2, 3, 2, "explicit", ((2,), (1,)), 1, None, True, "linear", "channels_last"),
    ("e2_pads_relu", "conv", 2, (1, 5, 6, 2), 3, (3, 2), (1, 2), "explicit", ((1, 0), (3, 2)), (1, 1), None, True,
     "relu", "channels_last"),
    ("e3_pads_first", "conv", 3, (1, 2, 3, 4, 3), 2, (2, 2, 2), (1, 1, 1), "explicit", ((1, 0, 2), (0, 1, 1)),
     (1, 1, 1), None, False, "linear", "channels_first"),
]

LAYERS = {
    ("conv", 1): keras.layers.Conv1D, ("conv", 2): keras.layers.Conv2D, ("conv", 3): keras.layers.Conv3D,
    ("conv_transpose", 1): keras.layers.Conv1DTranspose, ("conv_transpose", 2): keras.layers.Conv2DTranspose,
    ("conv_transpose", 3): keras.layers.Conv3DTranspose, ("depthwise", 1): keras.layers.DepthwiseConv1D,
    ("depthwise", 2): keras.layers.DepthwiseConv2D, ("separable", 1): keras.layers.SeparableConv1D,
    ("separable", 2): keras.layers.SeparableConv2D,
}


def family_layer(kind, rank, args, dtype):
    """The Keras layer; explicit pads are a ZeroPadding layer in front of a valid one (returned apart)."""
    return LAYERS[(kind, rank)](dtype=dtype, **args)


def family_gradients(kind, rank, args, pads, x, weights, dy, dtype):
    """[dx, dW..., db] of sum(dy * layer(x)), channels_last (the caller transposes channels_first)."""
    layer = family_layer(kind, rank, args, dtype)
    xt = tf.constant(x.astype(dtype))
    padding = None
    if pads is not None:
        padding = [[0, 0]] + [[b, a] for b, a in zip(*pads)] + [[0, 0]]
        layer.build(tf.pad(xt, padding).shape)
    else:
        layer.build(xt.shape)
    variables = ([layer.depthwise_kernel, layer.pointwise_kernel] if kind == "separable" else [layer.kernel])
    if args.get("use_bias"):
        variables.append(layer.bias)
    for v, w in zip(variables, weights):
        v.assign(w.astype(dtype))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(tf.pad(xt, padding) if padding is not None else xt)
        loss = tf.reduce_sum(y * tf.constant(dy.astype(dtype)))
    return [g.numpy() for g in tape.gradient(loss, [xt] + variables)], y.numpy()


def family_main(out):
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for index, (name, kind, rank, shape, filters, k, s, padding, pads, d, op, use_bias, act, fmt) in \
            enumerate(FAMILY):
        rng = np.random.default_rng(1600 + index)
        k, s, d = tup(k, rank), tup(s, rank), tup(d, rank)
        op = None if op is None else tup(op, rank)
        first = fmt == "channels_first"
        to_last = (0,) + tuple(range(2, rank + 2)) + (1,)
        to_first = (0, rank + 1) + tuple(range(1, rank + 1))
        cin = shape[1] if first else shape[-1]
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        x_last = x.transpose(to_last) if first else x
        args = dict(kernel_size=k, strides=s, padding="valid" if padding == "explicit" else padding,
                    dilation_rate=d, use_bias=use_bias, activation="linear", data_format="channels_last")
        if kind == "depthwise":
            args["depth_multiplier"] = filters
            weights = [rng.uniform(-1, 1, k + (cin, filters))]
            outc = cin * filters
        elif kind == "separable":
            args.update(filters=filters, depth_multiplier=2 if "mult2" in name else 1)
            mid = cin * args["depth_multiplier"]
            weights = [rng.uniform(-1, 1, k + (cin, args["depth_multiplier"])),
                       rng.uniform(-1, 1, (1,) * rank + (mid, filters))]
            outc = filters
        elif kind == "conv_transpose":
            args.update(filters=filters, output_padding=op)
            weights = [rng.uniform(-1, 1, k + (filters, cin))]
            outc = filters
        else:
            args["filters"] = filters
            weights = [rng.uniform(-1, 1, k + (cin, filters))]
            outc = filters
        if use_bias:
            weights.append(rng.uniform(-1, 1, (outc,)))
        weights = [w.astype(np.float32) for w in weights]
        # The linear layer's output gives dy's shape and, in float64, relu's mask.
        probe = family_layer(kind, rank, args, "float64")
        xin = tf.constant(x_last.astype("float64"))
        if pads is not None:
            xin = tf.pad(xin, [[0, 0]] + [[b, a] for b, a in zip(*pads)] + [[0, 0]])
        probe.build(xin.shape)
        pv = ([probe.depthwise_kernel, probe.pointwise_kernel] if kind == "separable" else [probe.kernel])
        if use_bias:
            pv.append(probe.bias)
        for v, w in zip(pv, weights):
            v.assign(w.astype("float64"))
        y_lin = probe(xin).numpy()
        dy_last = rng.uniform(-1, 1, y_lin.shape).astype(np.float32)
        relu_args = dict(args, activation=act)
        g64, _ = family_gradients(kind, rank, relu_args, pads, x_last, weights, dy_last, "float64")
        g32, _ = family_gradients(kind, rank, relu_args, pads, x_last, weights, dy_last, "float32")
        dz = dy_last * (y_lin > 0) if act == "relu" else dy_last
        mag_args = dict(args, use_bias=use_bias)
        mag, _ = family_gradients(kind, rank, mag_args, pads, np.abs(x_last), [np.abs(w) for w in weights],
                                  np.abs(dz), "float64")
        if first:
            for g in (g64, g32, mag):
                g[0] = g[0].transpose(to_first)
        dy = dy_last.transpose(to_first) if first else dy_last
        names = ["kernel", "pkernel"] if kind == "separable" else ["kernel"]
        names = names + (["bias"] if use_bias else [])
        tensors = {"x": x, "dy": dy, "dx": g64[0], "dx_f32": g32[0], "mag_dx": mag[0]}
        for i, n in enumerate(names):
            tensors[n] = weights[i]
            tensors["d" + n] = g64[i + 1]
            tensors["d" + n + "_f32"] = g32[i + 1]
            tensors["mag_d" + n] = mag[i + 1]
        case_dir = os.path.join(out, name)
        os.makedirs(case_dir)
        for key, value in tensors.items():
            np.save(os.path.join(case_dir, key + ".npy"), np.ascontiguousarray(value, dtype="<f4"))
        flags = ["--layer", kind, "--rank", str(rank), "--strides", ",".join(map(str, s)),
                 "--dilation", ",".join(map(str, d)), "--activation", "relu" if act == "relu" else "none",
                 "--data-format", fmt]
        if padding == "explicit":
            flags += ["--padding", "explicit", "--pads", ",".join("%d,%d" % ba for ba in zip(*pads))]
        else:
            flags += ["--padding", padding]
        if op is not None:
            flags += ["--output-padding", ",".join(map(str, op))]
        pixels = max(int(np.prod(x.shape[1:])), int(np.prod(dy.shape[1:])))
        kvol = int(np.prod(k))
        terms = (2 if kind == "separable" else 1) * (shape[0] * pixels + kvol * max(cin, outc) * 2)
        with open(os.path.join(case_dir, "case.properties"), "w") as f:
            f.write("# %s: tf.GradientTape on keras.layers.%s, keras %s, tensorflow %s\n"
                    % (name, LAYERS[(kind, rank)].__name__, keras.__version__, tf.__version__))
            f.write("args=%s\nterms=%d\n" % (" ".join(flags), terms))
        print("%-20s x %s -> dy %s" % (name, shape, dy.shape))


if __name__ == "__main__":
    main()
    family_main(os.path.abspath(os.path.join(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT, "..",
                                             "gradients-family")))
