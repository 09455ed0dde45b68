#!/usr/bin/env python3
"""Cross-check fedactor's safetensors export against PyTorch.

For each FILE (written by nn.SaveSafetensors, e.g. by TestExportMNIST in
nn/safetensors_export_test.go) this script rebuilds the PyTorch module from
the file's metadata (input_shape and layers, as nn.MetaLayers documents:
convolutions with 'same' padding get padding=(k-1)//2), loads the tensors
with load_state_dict(strict=True), evaluates it on the MNIST test set
(inputs NCHW, pixels/255 as float32, as fedactor feeds them) and prints the
accuracy.

If the file's metadata holds the Go-side figure (test_correct) the two are
compared, and if FILE's sibling <model>.logits.f32 exists (Go's logits,
little-endian float32 [10000][10]) the predictions are compared example by
example and the largest logit difference is reported. The exit status is 1
if any file's accuracy or predictions differ from Go's.

Usage:
    scripts/check_safetensors.py [--mnist DIR] FILE...

DIR holds t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (default
$FEDACTOR_DATA/mnist, else /work/shared/datasets/mnist).

The python `safetensors` package is used if installed; otherwise (Debian 12
does not package it) a minimal reader below parses the format: an 8-byte
little-endian header length, a JSON header, then the raw tensor bytes.
"""

import argparse
import gzip
import json
import math
import os
import re
import struct
import sys

import torch
from torch import nn

try:
    from safetensors.torch import load_file as _st_load_file
    from safetensors import safe_open as _st_safe_open
    READER = "safetensors package"
except ImportError:  # not packaged for Debian 12
    _st_load_file = None
    READER = "built-in minimal reader (python safetensors package not installed)"

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
          "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8}


def read_safetensors(path):
    """Return (state_dict, metadata) of a safetensors file."""
    if _st_load_file is not None:
        with _st_safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
        return _st_load_file(path), meta
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    assert sys.byteorder == "little", "the minimal reader assumes a little-endian host"
    sd = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name} offsets {begin},{end} out of range")
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e["dtype"]])
        sd[name] = t.reshape(e["shape"])
    return sd, meta


LAYER = re.compile(r"^(Conv2D|MaxPool2D|ReLU|Flatten|Dropout|Dense)\((.*)\)$")


class Sequential(nn.Module):
    """A fedactor sequential model rebuilt from its safetensors metadata.

    `input_shape` is "C,H,W" or "N"; `layers` is the space-separated list
    of nn.Layer.String values, e.g. "Conv2D(32, 5x5, same) ReLU()
    MaxPool2D(2) Flatten() Dense(10)". Parameterised layers are attributes
    named as nn.Model.Tensors names them (convK, fcK, counted from 1, the
    number dropped when a model has one layer of that kind), so that
    load_state_dict(strict=True) maps fedactor's tensors one to one.
    """

    def __init__(self, input_shape, layers):
        super().__init__()
        shape = [int(d) for d in input_shape.split(",")]
        specs = [LAYER.match(tok) for tok in split_layers(layers)]
        if any(m is None for m in specs):
            raise ValueError(f"cannot parse layers {layers!r}")
        nconv = sum(m.group(1) == "Conv2D" for m in specs)
        ndense = sum(m.group(1) == "Dense" for m in specs)
        self.steps = []  # (kind, module or argument)
        kconv = kdense = 0
        for m in specs:
            kind, args = m.group(1), m.group(2)
            if kind == "Conv2D":
                parts = [a.strip() for a in args.split(",")]
                filters, k = int(parts[0]), int(parts[1].split("x")[0])
                same = len(parts) > 2 and parts[2] == "same"
                pad = (k - 1) // 2 if same else 0
                kconv += 1
                name = "conv" if nconv == 1 else f"conv{kconv}"
                setattr(self, name, nn.Conv2d(shape[0], filters, k, padding=pad))
                self.steps.append(("module", name))
                shape = [filters, shape[1] + 2 * pad - k + 1, shape[2] + 2 * pad - k + 1]
            elif kind == "MaxPool2D":
                q = int(args)
                self.steps.append(("pool", q))
                shape = [shape[0], shape[1] // q, shape[2] // q]
            elif kind == "ReLU":
                self.steps.append(("relu", None))
            elif kind == "Flatten":
                self.steps.append(("flatten", None))
                shape = [math.prod(shape)]
            elif kind == "Dropout":
                name = f"dropout{len(self.steps)}"
                setattr(self, name, nn.Dropout(float(args)))
                self.steps.append(("module", name))
            elif kind == "Dense":
                units = int(args)
                kdense += 1
                name = "fc" if ndense == 1 else f"fc{kdense}"
                setattr(self, name, nn.Linear(math.prod(shape), units))
                self.steps.append(("module", name))
                shape = [units]
        self.input_shape = [int(d) for d in input_shape.split(",")]

    def forward(self, x):
        x = x.reshape([x.shape[0]] + self.input_shape)  # NCHW or flat
        for kind, arg in self.steps:
            if kind == "module":
                x = getattr(self, arg)(x)
            elif kind == "pool":
                x = nn.functional.max_pool2d(x, arg)
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "flatten":
                x = torch.flatten(x, 1)  # (C, H, W) order
        return x


def split_layers(layers):
    """Split "Conv2D(32, 5x5, same) ReLU() ..." at the spaces between layers."""
    out, depth, cur = [], 0, ""
    for ch in layers:
        if ch == " " and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    if cur:
        out.append(cur)
    return out


def read_idx(path, magic, ndims):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got, = struct.unpack(">I", raw[:4])
    if got != magic:
        raise ValueError(f"{path}: magic {got:#x}, want {magic:#x}")
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    body = raw[4 + 4 * ndims:]
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def load_mnist_test(d):
    x = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), 0x803, 3)
    y = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 0x801, 1)
    x = (x.to(torch.float32) / 255).unsqueeze(1)  # [N, 1, 28, 28], NCHW
    return x, y.to(torch.int64)


def check(path, x, y):
    sd, meta = read_safetensors(path)
    arch = meta.get("architecture")
    try:
        model = Sequential(meta["input_shape"], meta["layers"])
    except (KeyError, ValueError) as e:
        print(f"{path}: cannot rebuild the model from its metadata: {e}")
        return False
    if [int(d) for d in meta["input_shape"].split(",")] not in ([1, 28, 28], [784]):
        print(f"{path}: input shape {meta['input_shape']} is not MNIST's")
        return False
    model.load_state_dict(sd, strict=True)
    model.eval()
    nparams = sum(p.numel() for p in model.parameters())
    if str(nparams) != meta.get("num_params"):
        print(f"{path}: module has {nparams} parameters, metadata says {meta.get('num_params')}")
        return False
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    pred = logits.argmax(1)
    correct = int((pred == y).sum())
    ok = True
    line = f"{arch:11s} PyTorch test accuracy {correct / len(y):.4f} ({correct}/{len(y)})"
    if "test_correct" in meta:
        line += f"   Go {meta.get('test_accuracy')} ({meta['test_correct']})"
        if meta["test_correct"] != f"{correct}/{len(y)}":
            ok = False
            line += "   MISMATCH"
    print(line)
    side = os.path.join(os.path.dirname(path), arch + ".logits.f32")
    if os.path.exists(side):
        with open(side, "rb") as f:
            go = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(len(y), -1)
        same = int((go.argmax(1) == pred).sum())
        diff = float((go - logits).abs().max())
        print(f"            predictions equal to Go's on {same}/{len(y)} examples, max |logit difference| {diff:.2e}")
        if same != len(y):
            ok = False
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.path.join(os.environ.get("FEDACTOR_DATA", "/work/shared/datasets"), "mnist")
    ap.add_argument("--mnist", default=default, help="directory of the MNIST IDX .gz files")
    ap.add_argument("files", nargs="+", help="safetensors files written by fedactor")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print(f"torch {torch.__version__}; reading safetensors with the {READER}")
    x, y = load_mnist_test(args.mnist)
    ok = all([check(p, x, y) for p in args.files])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
