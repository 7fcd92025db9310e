#!/usr/bin/env python3
"""Keras oracle fixtures for issue 13: Conv3D, Conv{1,2,3}DTranspose, DepthwiseConv{1,2}D,
SeparableConv{1,2}D and explicit padding (ZeroPadding + conv).

Run with the Keras venv (Keras 3.15.1, TensorFlow 2.21 backend):
    /work/kv/bin/python tools/keras/make_conv_family_fixtures.py [out_dir]
Seeded and rerunnable. Also writes a few cases as .npy files plus the conv command's flags into
java/cli/src/test/resources/keras-cli/<case>/ (ConvFamilyCliTest). Writes one text file per case-name prefix (conv3d, conv2dt, dw2d, ...) into
java/src/test/resources/org/conv4j/keras/ (read by KerasConvFamilyTest):

    case <name>
    layer conv|conv_transpose|depthwise|separable
    rank <r>
    config <key>=<value> ...        (Keras' names; lists as a,b,c; none for None)
    params <count_params()>
    tensor <name> <shape a,b,...> <values...>   input kernel [pointwise] [bias] out64 out32
    end

    refusal <name>
    layer / rank / config / input_shape a,b,...
    message <Keras' or TensorFlow's first line>
    end

Inputs and weights are float32 values (so Java's float arrays hold them exactly); out64 is the
layer run in float64, out32 in float32. channels_first is run by Keras when TensorFlow's CPU
kernel supports it, otherwise (noted as via=transpose) on the transposed tensors in
channels_last: the same function, as the layers are defined per channel axis.
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    # Keras' messages print sets: fix their order so that reruns write the same files.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "java", "src", "test", "resources", "org", "conv4j", "keras")
RNG = np.random.default_rng(13)

CLASSES = {
    ("conv", 1): layers.Conv1D, ("conv", 2): layers.Conv2D, ("conv", 3): layers.Conv3D,
    ("conv_transpose", 1): layers.Conv1DTranspose, ("conv_transpose", 2): layers.Conv2DTranspose,
    ("conv_transpose", 3): layers.Conv3DTranspose,
    ("depthwise", 1): layers.DepthwiseConv1D, ("depthwise", 2): layers.DepthwiseConv2D,
    ("separable", 1): layers.SeparableConv1D, ("separable", 2): layers.SeparableConv2D,
}
ZERO_PADDING = {1: layers.ZeroPadding1D, 2: layers.ZeroPadding2D, 3: layers.ZeroPadding3D}


def f32(shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def fmt_list(v):
    if v is None:
        return "none"
    if isinstance(v, (list, tuple)):
        return ",".join(str(int(x)) for x in v)
    return str(v)


def keras_kwargs(layer, cfg):
    kw = dict(kernel_size=tuple(cfg["kernel_size"]), strides=tuple(cfg.get("strides", [1] * len(cfg["kernel_size"]))),
              padding=cfg.get("padding", "valid") if cfg.get("padding") != "explicit" else "valid",
              dilation_rate=tuple(cfg.get("dilation_rate", [1] * len(cfg["kernel_size"]))),
              use_bias=cfg.get("use_bias", True), activation=cfg.get("activation"),
              data_format=cfg.get("data_format", "channels_last"))
    if layer in ("conv", "conv_transpose", "separable"):
        kw["filters"] = cfg["filters"]
    if layer in ("depthwise", "separable"):
        kw["depth_multiplier"] = cfg.get("depth_multiplier", 1)
    if layer == "conv" and cfg.get("groups", 1) != 1:
        kw["groups"] = cfg["groups"]
    if layer == "conv_transpose" and cfg.get("output_padding") is not None:
        kw["output_padding"] = tuple(cfg["output_padding"])
    return kw


def run_keras(layer, rank, cfg, x, weights, dtype):
    """The layer (after ZeroPadding for explicit pads) on x in dtype; weights in Keras' order."""
    kw = keras_kwargs(layer, cfg)
    conv = CLASSES[(layer, rank)](dtype=dtype, **kw)
    stack = [conv]
    if cfg.get("padding") == "explicit":
        pads = cfg["pads"]
        pairs = tuple((pads[2 * i], pads[2 * i + 1]) for i in range(rank))
        stack = [ZERO_PADDING[rank](pairs if rank > 1 else pairs[0], data_format=kw["data_format"], dtype=dtype)
                 if rank > 1 else layers.ZeroPadding1D(pairs[0], dtype=dtype)] + stack
    xx = x.astype(dtype)
    h = xx
    for i, l in enumerate(stack):
        if l is conv:
            l.build(h.shape)
            l.set_weights([w.astype(dtype) for w in weights])
        h = l(h)
    return np.asarray(h), conv.count_params()


def weights_for(layer, rank, cfg, cin):
    k = list(cfg["kernel_size"])
    ws = []
    if layer == "conv":
        ws.append(f32(k + [cin // cfg.get("groups", 1), cfg["filters"]], 0.5))
        out_c = cfg["filters"]
    elif layer == "conv_transpose":
        ws.append(f32(k + [cfg["filters"], cin], 0.5))
        out_c = cfg["filters"]
    elif layer == "depthwise":
        ws.append(f32(k + [cin, cfg.get("depth_multiplier", 1)], 0.5))
        out_c = cin * cfg.get("depth_multiplier", 1)
    else:
        m = cfg.get("depth_multiplier", 1)
        ws.append(f32(k + [cin, m], 0.5))
        ws.append(f32([1] * rank + [cin * m, cfg["filters"]], 0.5))
        out_c = cfg["filters"]
    if cfg.get("use_bias", True):
        ws.append(f32([out_c], 0.5))
    return ws


def to_last(a, rank):
    return np.moveaxis(a, 1, -1)


def to_first(a, rank):
    return np.moveaxis(a, -1, 1)


def dilated_kernel(w, dilation):
    """The kernel with d-1 zeros between taps: the same function at dilation 1."""
    rank = len(dilation)
    shape = [(k - 1) * d + 1 for k, d in zip(w.shape[:rank], dilation)] + list(w.shape[rank:])
    out = np.zeros(shape, dtype=w.dtype)
    out[tuple(slice(None, None, d) for d in dilation)] = w
    return out


def compute(layer, rank, cfg, x, ws):
    """(out64, out32, params, via) running channels_first through the transpose when TF cannot."""
    dil = cfg.get("dilation_rate", [1] * rank)
    if layer == "conv_transpose" and max(dil) > 1:
        # TF's CPU Conv2DBackpropInput has no dilation: run the zero-stuffed kernel at dilation 1
        # (same output-size rule, as Keras uses the effective kernel size there).
        conv = CLASSES[(layer, rank)](**keras_kwargs(layer, cfg))
        conv.build(x.shape)
        stuffed = dict(cfg, kernel_size=[(k - 1) * d + 1 for k, d in zip(cfg["kernel_size"], dil)],
                       dilation_rate=[1] * rank)
        o64, o32, _, via = compute(layer, rank, stuffed, x, [dilated_kernel(ws[0], dil)] + ws[1:])
        return o64, o32, conv.count_params(), via + "+dilated-kernel"
    try:
        o64, params = run_keras(layer, rank, cfg, x, ws, "float64")
        o32, _ = run_keras(layer, rank, cfg, x, ws, "float32")
        return o64, o32, params, "keras"
    except Exception:
        if cfg.get("data_format") != "channels_first":
            raise
    last = dict(cfg, data_format="channels_last")
    xl = to_last(x, rank)
    o64, params = run_keras(layer, rank, last, xl, ws, "float64")
    o32, _ = run_keras(layer, rank, last, xl, ws, "float32")
    return to_first(o64, rank), to_first(o32, rank), params, "transpose"


def config_line(cfg):
    keys = ["filters", "kernel_size", "strides", "padding", "pads", "dilation_rate", "output_padding", "groups",
            "depth_multiplier", "use_bias", "activation", "data_format"]
    parts = []
    for key in keys:
        if key in cfg:
            v = cfg[key]
            if isinstance(v, bool):
                v = "true" if v else "false"
            parts.append(f"{key}={fmt_list(v)}")
    return "config " + " ".join(parts)


def tensor_line(name, a, digits):
    a = np.asarray(a)
    vals = " ".join(repr(float(v)) if digits == 17 else repr(float(np.float32(v))) for v in a.ravel())
    return f"tensor {name} {fmt_list(list(a.shape))} {vals}"


CLI_CASES = {"conv3d_same_stride2_odd_nobias", "conv2dt_same_op", "conv1dt_dilation", "conv3dt_channels_first",
             "dw2d_m2_channels_first", "sep2d_m3_stride", "sep1d_m2_same_stride2_relu", "conv2d_explicit_stride"}
CLI_OUT = os.path.join(os.path.dirname(__file__), "..", "..", "java", "cli", "src", "test", "resources", "keras-cli")


def cli_args(layer, rank, cfg):
    """The conv command's flags for the case (files are added by the test)."""
    args = ["--layer", layer, "--rank", str(rank)]
    for key, flag in [("strides", "--strides"), ("dilation_rate", "--dilation"), ("output_padding", "--output-padding")]:
        if cfg.get(key) is not None:
            args += [flag, fmt_list(cfg[key])]
    args += ["--padding", cfg.get("padding", "valid")]
    if cfg.get("padding") == "explicit":
        args += ["--pads", fmt_list(cfg["pads"])]
    args += ["--activation", cfg.get("activation") or "none", "--data-format", cfg.get("data_format", "channels_last")]
    return args


def write_cli_case(name, layer, rank, cfg, x, ws, names, o64):
    d = os.path.join(CLI_OUT, name)
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "input.npy"), x.astype("<f4"))
    for n, w in zip(names, ws):
        np.save(os.path.join(d, f"{n}.npy"), w.astype("<f4"))
    np.save(os.path.join(d, "expected.npy"), o64.astype("<f4"))  # float64 Keras, rounded once
    with open(os.path.join(d, "args.txt"), "w") as f:
        f.write(" ".join(cli_args(layer, rank, cfg)) + "\n")


def case(out, name, layer, rank, cfg, input_shape):
    x = f32(input_shape)
    first = cfg.get("data_format") == "channels_first"
    cin = input_shape[1] if first else input_shape[-1]
    ws = weights_for(layer, rank, cfg, cin)
    o64, o32, params, via = compute(layer, rank, cfg, x, ws)
    names = ["kernel"] + (["pointwise"] if layer == "separable" else []) + (["bias"] if cfg.get("use_bias", True)
                                                                           else [])
    lines = [f"case {name}", f"layer {layer}", f"rank {rank}", config_line(cfg), f"params {params}", f"via {via}",
             tensor_line("input", x, 9)]
    lines += [tensor_line(n, w, 9) for n, w in zip(names, ws)]
    lines += [tensor_line("out64", o64, 17), tensor_line("out32", o32, 9), "end"]
    out.append("\n".join(lines))
    if name in CLI_CASES:
        write_cli_case(name, layer, rank, cfg, x, ws, names, o64)


def refusal(out, name, layer, rank, cfg, input_shape):
    try:
        x = f32(input_shape)
        first = cfg.get("data_format") == "channels_first"
        cin = input_shape[1] if first else input_shape[-1]
        ws = weights_for(layer, rank, cfg, cin)
        run_keras(layer, rank, cfg, x, ws, "float64")
    except Exception as e:  # Keras' or TensorFlow's refusal: what the Java side must also refuse
        msg = " ".join(str(e).split())[:300]
        out.append("\n".join([f"refusal {name}", f"layer {layer}", f"rank {rank}", config_line(cfg),
                              f"input_shape {fmt_list(input_shape)}", f"message {type(e).__name__}: {msg}", "end"]))
        return
    raise SystemExit(f"expected Keras to refuse {name}")


def conv3d(out):
    case(out, "conv3d_valid_relu_batch2", "conv", 3,
         dict(filters=3, kernel_size=[2, 3, 2], activation="relu"), [2, 3, 4, 3, 2])
    case(out, "conv3d_same_stride2_odd_nobias", "conv", 3,
         dict(filters=3, kernel_size=[3, 3, 3], strides=[2, 2, 2], padding="same", use_bias=False), [1, 3, 5, 4, 2])
    case(out, "conv3d_same_dilation", "conv", 3,
         dict(filters=2, kernel_size=[3, 2, 3], dilation_rate=[2, 1, 2], padding="same"), [1, 5, 3, 5, 2])
    case(out, "conv3d_strides_mixed_valid", "conv", 3,
         dict(filters=2, kernel_size=[1, 3, 2], strides=[1, 2, 3]), [2, 2, 5, 7, 2])
    case(out, "conv3d_channels_first", "conv", 3,
         dict(filters=3, kernel_size=[2, 2, 2], padding="same", strides=[2, 1, 2], data_format="channels_first"),
         [2, 2, 3, 3, 4])
    case(out, "conv3d_groups2", "conv", 3,
         dict(filters=4, kernel_size=[2, 2, 2], groups=2, padding="same"), [1, 3, 4, 3, 4])
    case(out, "conv3d_explicit", "conv", 3,
         dict(filters=2, kernel_size=[2, 3, 2], padding="explicit", pads=[1, 0, 2, 1, 0, 3]), [1, 3, 4, 3, 2])
    case(out, "conv2d_explicit_stride", "conv", 2,
         dict(filters=3, kernel_size=[3, 3], strides=[2, 2], padding="explicit", pads=[0, 2, 1, 1]), [2, 6, 5, 3])
    case(out, "conv2d_explicit_channels_first", "conv", 2,
         dict(filters=2, kernel_size=[2, 3], padding="explicit", pads=[2, 0, 1, 3], data_format="channels_first"),
         [1, 3, 4, 5])
    case(out, "conv1d_explicit_dilation", "conv", 1,
         dict(filters=2, kernel_size=[3], dilation_rate=[2], padding="explicit", pads=[3, 1]), [2, 7, 3])
    refusal(out, "conv3d_stride_and_dilation", "conv", 3,
            dict(filters=2, kernel_size=[2, 2, 2], strides=[2, 1, 1], dilation_rate=[1, 2, 1]), [1, 6, 6, 6, 2])
    refusal(out, "conv3d_causal", "conv", 3, dict(filters=2, kernel_size=[2, 2, 2], padding="causal"),
            [1, 4, 4, 4, 2])
    refusal(out, "conv3d_too_small", "conv", 3, dict(filters=2, kernel_size=[3, 3, 3]), [1, 2, 4, 4, 2])


def transposed(out):
    t = "conv_transpose"
    case(out, "conv1dt_valid", t, 1, dict(filters=3, kernel_size=[3]), [2, 5, 2])
    case(out, "conv1dt_same_stride2", t, 1, dict(filters=2, kernel_size=[3], strides=[2], padding="same"), [1, 6, 3])
    case(out, "conv1dt_valid_stride3_k2", t, 1, dict(filters=2, kernel_size=[2], strides=[3]), [1, 4, 2])
    case(out, "conv1dt_valid_op", t, 1,
         dict(filters=2, kernel_size=[3], strides=[3], output_padding=[2], activation="relu"), [2, 4, 3])
    case(out, "conv1dt_same_op_even_kernel", t, 1,
         dict(filters=2, kernel_size=[4], strides=[2], padding="same", output_padding=[1]), [1, 5, 2])
    case(out, "conv1dt_dilation", t, 1, dict(filters=2, kernel_size=[3], dilation_rate=[2]), [1, 5, 3])
    case(out, "conv1dt_channels_first", t, 1,
         dict(filters=3, kernel_size=[3], strides=[2], padding="same", data_format="channels_first"), [2, 2, 5])
    case(out, "conv2dt_valid_relu_batch2", t, 2, dict(filters=3, kernel_size=[3, 2], activation="relu"),
         [2, 4, 3, 2])
    case(out, "conv2dt_same_stride2", t, 2, dict(filters=2, kernel_size=[3, 3], strides=[2, 2], padding="same"),
         [1, 4, 5, 3])
    case(out, "conv2dt_same_even_kernel_stride2", t, 2,
         dict(filters=2, kernel_size=[4, 2], strides=[2, 2], padding="same", use_bias=False), [1, 3, 4, 2])
    case(out, "conv2dt_valid_op_mixed", t, 2,
         dict(filters=2, kernel_size=[3, 3], strides=[2, 3], output_padding=[1, 2]), [1, 3, 3, 2])
    case(out, "conv2dt_same_op", t, 2,
         dict(filters=3, kernel_size=[3, 2], strides=[3, 2], padding="same", output_padding=[2, 1]), [2, 3, 4, 2])
    case(out, "conv2dt_dilation_same", t, 2,
         dict(filters=2, kernel_size=[3, 3], dilation_rate=[2, 1], padding="same"), [1, 5, 4, 2])
    case(out, "conv2dt_stride_gt_kernel", t, 2, dict(filters=2, kernel_size=[2, 2], strides=[3, 3]), [1, 3, 2, 2])
    case(out, "conv2dt_channels_first", t, 2,
         dict(filters=2, kernel_size=[3, 3], strides=[2, 1], padding="same", data_format="channels_first"),
         [2, 3, 3, 4])
    case(out, "conv3dt_valid", t, 3, dict(filters=2, kernel_size=[2, 3, 2], strides=[2, 1, 2]), [1, 3, 3, 2, 2])
    case(out, "conv3dt_same_op", t, 3,
         dict(filters=2, kernel_size=[3, 3, 3], strides=[2, 2, 2], padding="same", output_padding=[1, 0, 1]),
         [2, 2, 3, 2, 2])
    case(out, "conv3dt_channels_first", t, 3,
         dict(filters=2, kernel_size=[2, 2, 2], strides=[2, 2, 2], data_format="channels_first"), [1, 2, 2, 3, 2])
    refusal(out, "convt_output_padding_ge_stride", t, 2,
            dict(filters=2, kernel_size=[3, 3], strides=[2, 2], output_padding=[2, 0]), [1, 4, 4, 2])
    refusal(out, "convt_stride_and_dilation", t, 1,
            dict(filters=2, kernel_size=[3], strides=[2], dilation_rate=[2]), [1, 5, 2])
    refusal(out, "convt_same_even_kernel_output_padding0", t, 2,
            dict(filters=2, kernel_size=[2, 2], strides=[2, 2], padding="same", output_padding=[0, 0]), [1, 4, 4, 2])
    refusal(out, "convt_causal", t, 1, dict(filters=2, kernel_size=[3], padding="causal"), [1, 5, 2])


def depthwise(out):
    d = "depthwise"
    case(out, "dw1d_m1_valid", d, 1, dict(kernel_size=[3]), [2, 7, 3])
    case(out, "dw1d_m3_same_stride2", d, 1,
         dict(kernel_size=[4], strides=[2], padding="same", depth_multiplier=3), [1, 9, 2])
    case(out, "dw1d_m2_dilation_relu", d, 1,
         dict(kernel_size=[3], dilation_rate=[2], depth_multiplier=2, activation="relu"), [2, 8, 3])
    case(out, "dw2d_m2_same_batch2", d, 2, dict(kernel_size=[3, 3], padding="same", depth_multiplier=2),
         [2, 5, 4, 3])
    case(out, "dw2d_m3_stride_odd_nobias", d, 2,
         dict(kernel_size=[3, 2], strides=[3, 3], padding="same", depth_multiplier=3, use_bias=False), [1, 7, 8, 2])
    case(out, "dw2d_m2_dilation", d, 2, dict(kernel_size=[2, 3], dilation_rate=[2, 2], depth_multiplier=2),
         [1, 6, 7, 2])
    case(out, "dw2d_m2_channels_first", d, 2,
         dict(kernel_size=[3, 3], strides=[2, 2], padding="same", depth_multiplier=2, data_format="channels_first"),
         [2, 3, 5, 5])
    case(out, "dw2d_m2_explicit", d, 2,
         dict(kernel_size=[3, 3], padding="explicit", pads=[1, 2, 0, 1], depth_multiplier=2), [1, 4, 5, 2])
    case(out, "dw2d_m2_stride_and_dilation", d, 2,
         dict(kernel_size=[3, 3], strides=[2, 2], dilation_rate=[2, 2], depth_multiplier=2), [1, 9, 8, 2])
    case(out, "dw1d_stride_and_dilation_same", d, 1,
         dict(kernel_size=[3], strides=[2], dilation_rate=[2], padding="same"), [2, 9, 2])
    refusal(out, "dw_causal", d, 1, dict(kernel_size=[3], padding="causal"), [1, 6, 2])
    refusal(out, "dw_too_small", d, 2, dict(kernel_size=[3, 3]), [1, 2, 5, 2])


def separable(out):
    s = "separable"
    case(out, "sep1d_m1_valid", s, 1, dict(filters=4, kernel_size=[3]), [2, 7, 3])
    case(out, "sep1d_m2_same_stride2_relu", s, 1,
         dict(filters=3, kernel_size=[3], strides=[2], padding="same", depth_multiplier=2, activation="relu"),
         [1, 9, 2])
    case(out, "sep1d_m2_dilation_nobias", s, 1,
         dict(filters=2, kernel_size=[2], dilation_rate=[3], depth_multiplier=2, use_bias=False), [1, 8, 3])
    case(out, "sep2d_m1_same", s, 2, dict(filters=4, kernel_size=[3, 3], padding="same"), [2, 5, 4, 3])
    case(out, "sep2d_m3_stride", s, 2,
         dict(filters=2, kernel_size=[3, 2], strides=[2, 2], depth_multiplier=3), [1, 7, 6, 2])
    case(out, "sep2d_m2_dilation_same", s, 2,
         dict(filters=3, kernel_size=[3, 3], dilation_rate=[2, 1], padding="same", depth_multiplier=2), [1, 6, 5, 2])
    case(out, "sep2d_m2_channels_first", s, 2,
         dict(filters=3, kernel_size=[3, 3], padding="same", depth_multiplier=2, data_format="channels_first"),
         [2, 2, 4, 5])
    case(out, "sep2d_explicit", s, 2,
         dict(filters=2, kernel_size=[2, 2], padding="explicit", pads=[1, 0, 0, 2], depth_multiplier=2),
         [1, 3, 4, 2])
    case(out, "sep2d_stride_and_dilation", s, 2,
         dict(filters=2, kernel_size=[3, 3], strides=[2, 2], dilation_rate=[2, 2], padding="same"), [1, 7, 8, 2])
    refusal(out, "sep_causal", s, 1, dict(filters=2, kernel_size=[3], padding="causal"), [1, 6, 2])


def main():
    keras.config.set_floatx("float64")
    os.makedirs(OUT, exist_ok=True)
    out = []
    for fn in (conv3d, transposed, depthwise, separable):
        fn(out)
    # One file per name prefix (conv3d, conv2dt, dw2d, ...) keeps each file small.
    files = {}
    for entry in out:
        name = entry.split("\n", 1)[0].split(" ", 1)[1]
        files.setdefault(name.split("_")[0], []).append(entry)
    for prefix, entries in sorted(files.items()):
        path = os.path.join(OUT, f"{prefix}.txt")
        with open(path, "w") as f:
            f.write("# generated by tools/keras/make_conv_family_fixtures.py (Keras "
                    f"{keras.__version__}, backend {keras.backend.backend()}); do not edit\n")
            f.write("\n".join(entries) + "\n")
        print(path, os.path.getsize(path), "bytes,", sum(1 for o in entries if o.startswith("case")), "cases,",
              sum(1 for o in entries if o.startswith("refusal")), "refusals")


if __name__ == "__main__":
    main()
