#!/usr/bin/env python3
"""PyTorch reference for fedactor's fidelity check: central training and FedAvg.

Trains fedactor's "cnn" (the Keras simple MNIST convnet, 30,514 parameters)
on MNIST in PyTorch, for each seed given:

  central  one model, Adam, `--rounds` epochs over the training set, the test
           accuracy after every epoch (fedactor: go run ./experiments/baseline);
  fedavg   `--owners` data owners with an IID split, `--epochs` local epochs a
           round, FedAvg weighted by example counts, the test accuracy of the
           global model after every round (fedactor: 2-owner FedAvg, scheme
           plain, split iid).

and writes one JSON object: the configuration, per seed the accuracies, and
per mode and round the mean and standard deviation over the seeds.

What matches fedactor (nn, dataset and actors as of this script):

  * the model: Conv2d(1, 32, 3) ReLU MaxPool(2) Conv2d(32, 56, 3) ReLU
    MaxPool(2) Flatten Dropout(0.5) Linear(1400, 10), NCHW, flatten in
    C, H, W order; logits and the mean softmax cross-entropy of a batch;
  * initialisation: kernels Glorot (Xavier) uniform with Keras's fans
    (channels x kernel area for convolutions; torch's xavier_uniform_
    computes the same), biases zero (nn.Model.Init);
  * inputs: pixel / 255 as float32 (dataset.Set.Read);
  * the optimizer: torch.optim.Adam(lr, betas (0.9, 0.999), eps 1e-8), which
    nn.Adam implements step for step; one Adam per owner whose state is kept
    from round to round while its weights are reset to the global model
    (actors' default: Train.ResetOptimizer false);
  * batches: each epoch shuffles the owner's examples, cuts them into batches
    of `--batch` (the last one smaller) and takes one step per batch
    (nn.Trainer.TrainEpoch);
  * the split: a uniform random permutation dealt into equal shares (sizes
    differing by at most one), each share sorted (dataset.IID);
  * aggregation: w = sum_k n_k w_k / sum_k n_k in float64, rounded to float32
    (actors/policy FedAvg, nn.Model.SetParams);
  * evaluation: dropout off, all 10,000 test images unless --test-limit.

What does not match, by construction:

  * random numbers: fedactor draws from Go's PCG (math/rand/v2) with streams
    (seed, 1) for the initial weights, (seed, 2) for the split, (seed,
    (owner+1)<<32 | round) for an owner's shuffles in a round, and seeds its
    dropout masks per batch and example position; this script draws from
    torch generators seeded from the same (seed, stream) pairs, so the
    distributions are the same but the draws are not: a seed here and the
    same seed in fedactor are two unrelated samples, and only averages over
    seeds can be compared;
  * the dropout mask: fedactor keeps a value when a 16-bit uniform draw is
    below round(0.5 * 2^16), torch when a float draw is above 0.5 (the same
    probability);
  * --limit takes a uniform random subset (torch generator) like cli.LoadData,
    but not the same subset;
  * floating point: fedactor sums gradients of 16-example micro-batches in
    order, torch reduces in its own order; differences are at the level of
    float32 rounding per step.

Usage:
    /usr/bin/python3 scripts/fedavg_reference.py --seeds 1,2,3,4,5 --out ref.json
    /usr/bin/python3 scripts/fedavg_reference.py --seeds 1 --rounds 1 \
        --limit 2000 --test-limit 1000     # a quick smoke run

--mnist names the directory of the IDX .gz files (default $FEDACTOR_DATA/mnist).
"""

import argparse
import gzip
import json
import math
import os
import statistics
import struct
import sys
import time

import torch
from torch import nn


def read_idx(path, magic, ndims):
    """Return the contents of an IDX file of unsigned bytes as a tensor."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    (got,) = struct.unpack(">I", raw[:4])
    if got != magic:
        raise ValueError(f"{path}: magic {got:#x}, want {magic:#x}")
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    body = raw[4 + 4 * ndims:]
    if len(body) != math.prod(dims):
        raise ValueError(f"{path}: {len(body)} bytes of data, header says {math.prod(dims)}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def load_mnist(d):
    """Return (x_train, y_train, x_test, y_test): NCHW float32 pixel/255, int64 labels."""
    def images(name):
        return (read_idx(os.path.join(d, name), 0x803, 3).to(torch.float32) / 255).unsqueeze(1)

    def labels(name):
        return read_idx(os.path.join(d, name), 0x801, 1).to(torch.int64)

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


class KerasCNN(nn.Module):
    """fedactor's "cnn": the Keras simple MNIST convnet, 30,514 parameters."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 56, 3)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(56 * 5 * 5, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(self.dropout(torch.flatten(x, 1)))


def generator(seed, stream):
    """A torch generator for fedactor's PCG stream (seed, stream): same roles, other draws."""
    g = torch.Generator()
    g.manual_seed((seed * 0x9E3779B97F4A7C15 + stream) % (1 << 63))
    return g


def new_model(g):
    """A model with Glorot-uniform kernels drawn from g and zero biases."""
    m = KerasCNN()
    with torch.no_grad():
        for layer in (m.conv1, m.conv2, m.fc):
            fan_in = layer.weight[0].numel()
            fan_out = layer.weight.shape[0] * layer.weight[0, 0].numel()
            lim = math.sqrt(6 / (fan_in + fan_out))
            layer.weight.copy_(torch.rand(layer.weight.shape, generator=g) * 2 * lim - lim)
            layer.bias.zero_()
    return m


def train_epoch(model, opt, x, y, idx, batch, g):
    """One epoch over the examples idx, shuffled by g, in batches of `batch`."""
    model.train()
    order = idx[torch.randperm(len(idx), generator=g)]
    total = 0.0
    for s in range(0, len(order), batch):
        b = order[s:s + batch]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[b]), y[b])
        loss.backward()
        opt.step()
        total += float(loss) * len(b)
    return total / len(order)


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    correct = 0
    for s in range(0, len(x), 1000):
        correct += int((model(x[s:s + 1000]).argmax(1) == y[s:s + 1000]).sum())
    return correct / len(x)


def iid_split(n, owners, g):
    """dataset.IID: a permutation dealt in shares differing by at most one, each sorted."""
    perm = torch.randperm(n, generator=g)
    sizes = [n // owners + (1 if k < n % owners else 0) for k in range(owners)]
    parts, start = [], 0
    for size in sizes:
        parts.append(torch.sort(perm[start:start + size]).values)
        start += size
    return parts


def run_central(seed, data, train_idx, args):
    x, y, xt, yt = data
    torch.manual_seed(seed)  # dropout masks
    g = generator(seed, 1)  # as in experiments/baseline: one stream for weights and shuffles
    model = new_model(g)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    accs = []
    for _ in range(args.rounds):
        train_epoch(model, opt, x, y, train_idx, args.batch, g)
        accs.append(accuracy(model, xt, yt))
    return accs


def run_fedavg(seed, data, train_idx, args):
    x, y, xt, yt = data
    torch.manual_seed(seed)
    glob = new_model(generator(seed, 1))
    shards = [train_idx[p] for p in iid_split(len(train_idx), args.owners, generator(seed, 2))]
    owners = [KerasCNN() for _ in shards]
    opts = [torch.optim.Adam(m.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8) for m in owners]
    accs = []
    for rnd in range(1, args.rounds + 1):
        total = sum(len(s) for s in shards)
        acc64 = [torch.zeros_like(p, dtype=torch.float64) for p in glob.parameters()]
        for k, (m, opt, shard) in enumerate(zip(owners, opts, shards)):
            with torch.no_grad():
                for p, q in zip(m.parameters(), glob.parameters()):
                    p.copy_(q)  # in place: the owner's Adam state stays attached
            g = generator(seed, (k + 1) << 32 | rnd)
            for _ in range(args.epochs):
                train_epoch(m, opt, x, y, shard, args.batch, g)
            with torch.no_grad():
                for a, p in zip(acc64, m.parameters()):
                    a += len(shard) * p.to(torch.float64)
        with torch.no_grad():
            for p, a in zip(glob.parameters(), acc64):
                p.copy_((a / total).to(torch.float32))
        accs.append(accuracy(glob, xt, yt))
    return accs


def summarise(per_seed):
    """Mean and sample standard deviation per round over the seeds."""
    rounds = len(per_seed[0])
    out = []
    for r in range(rounds):
        vals = [s[r] for s in per_seed]
        sd = statistics.stdev(vals) if len(vals) > 1 else None
        out.append({"round": r + 1, "mean": statistics.fmean(vals), "std": sd, "n": len(vals)})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", default=os.path.join(os.environ.get("FEDACTOR_DATA", ""), "mnist"),
                    help="directory of the MNIST IDX .gz files")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds, e.g. 1,2,3,4,5")
    ap.add_argument("--modes", default="central,fedavg", help="central, fedavg or both")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (central: epochs)")
    ap.add_argument("--owners", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1, help="local epochs per round")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--limit", type=int, default=0, help="training examples (0 = all 60,000)")
    ap.add_argument("--test-limit", type=int, default=0, help="test examples (0 = all 10,000)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--out", default="-", help="JSON output file, - for standard output")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not seeds or any(m not in ("central", "fedavg") for m in modes) or args.rounds < 1 or args.owners < 1:
        ap.error("need seeds, modes among central and fedavg, rounds >= 1 and owners >= 1")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    nparams = sum(p.numel() for p in KerasCNN().parameters())
    if nparams != 30514:
        sys.exit(f"the model has {nparams} parameters, fedactor's cnn 30,514")

    x, y, xt, yt = load_mnist(args.mnist)
    if args.test_limit > 0:
        xt, yt = xt[:args.test_limit], yt[:args.test_limit]
    data = (x, y, xt, yt)
    results = {"config": {k: v for k, v in vars(args).items()}, "torch": torch.__version__,
               "model": "cnn (Keras simple MNIST convnet, 30,514 parameters)", "seeds": []}
    per_mode = {m: [] for m in modes}
    for seed in seeds:
        train_idx = torch.arange(len(x))
        if 0 < args.limit < len(x):
            train_idx = torch.sort(torch.randperm(len(x), generator=generator(seed, 0x5EED))[:args.limit]).values
        row = {"seed": seed, "train_examples": len(train_idx), "test_examples": len(xt)}
        for mode in modes:
            start = time.time()
            accs = (run_central if mode == "central" else run_fedavg)(seed, data, train_idx, args)
            row[mode] = accs
            row[mode + "_seconds"] = round(time.time() - start, 1)
            per_mode[mode].append(accs)
            print(f"seed {seed} {mode}: " + " ".join(f"{100 * a:.2f}" for a in accs), file=sys.stderr)
        results["seeds"].append(row)
    results["summary"] = {m: summarise(v) for m, v in per_mode.items()}
    text = json.dumps(results, indent=1)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
