"""The seed notebook's experiment in NumPy, the same procedure as `pnpm --filter cli train`, for the benchmark.

Same work, phase by phase: read the eight IDX files, check each one's SHA-256, gunzip where compressed,
scale the pixels to [0, 1]; train a 784-60-20-10 sigmoid MLP on MNIST (5 epochs x 500 batches of 100) and one
on Fashion-MNIST (5 x 600), SGD lr 0.01 on the summed NLL, the notebook's batch order, a validation after every
epoch; stitch them (two 20x60 alpha blocks, zero-initialised) and train only alpha on 2000 shuffled examples of
the combined training sets (40 x 20 batches); evaluate the four nets on both test sets. float32 throughout.
The random numbers differ from xs's (NumPy's generator, not threefry), so accuracies agree only roughly.

Usage: python3 seed_experiment.py MANIFEST.json [--epochs a,b,c]
  MANIFEST.json: file paths and SHA-256 sums (`xs data --json`, as the bench writes it);
  --epochs: epochs of the MNIST, Fashion-MNIST and stitch phases (default 5,5,40, as `xs train --epochs`).
Prints one line `RESULT {json}` with per-phase seconds, accuracies and peak RSS.
"""
import gzip
import hashlib
import json
import resource
import sys
import time

import numpy as np

ROLES = ("trainImages", "trainLabels", "testImages", "testLabels")


def read_idx(path, sha256):
    with open(path, "rb") as f:
        raw = f.read()
    # the file's own SHA-256, as `xs data --json` reports it (xs checks the decompressed content: more bytes)
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise SystemExit(f"{path}: SHA-256 {actual}, expected {sha256}")
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load(files):
    out = {}
    for role in ROLES:
        a = read_idx(files[role]["path"], files[role]["sha256"])
        if role.endswith("Images"):
            out[role] = a.reshape(a.shape[0], -1).astype(np.float32) / np.float32(255)
        else:
            out[role] = a.astype(np.int64)
    return out


def sigmoid(x):
    return np.float32(1) / (np.float32(1) + np.exp(-x))


def init_mlp(rng, sizes):
    return [[(rng.standard_normal((sizes[i + 1], sizes[i])) / 10).astype(np.float32), np.zeros(sizes[i + 1], np.float32)] for i in range(len(sizes) - 1)]


def forward(p, x):
    h1 = sigmoid(x @ p[0][0].T + p[0][1])
    h2 = sigmoid(h1 @ p[1][0].T + p[1][1])
    z = h2 @ p[2][0].T
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return h1, h2, e / e.sum(axis=1, keepdims=True)


def predict(p, x):
    return forward(p, x)[2].argmax(axis=1)


def gradients(p, x, labels):
    """Gradients of the NLL summed over the batch (= the notebook's summed per-example gradients), and the mean loss."""
    h1, h2, probs = forward(p, x)
    n = x.shape[0]
    loss = float(-np.log(probs[np.arange(n), labels]).mean())
    dz = probs
    dz[np.arange(n), labels] -= 1
    dh2 = (dz @ p[2][0]) * h2 * (1 - h2)
    dh1 = (dh2 @ p[1][0]) * h1 * (1 - h1)
    return loss, h1, dh2, [[dh1.T @ x, dh1.sum(0)], [dh2.T @ h1, dh2.sum(0)], [dz.T @ h2, None]]


def alpha_gradients(p, x, labels):
    """The stitch's gradients: only alpha's blocks of the middle layer (what `grad` with respect to alpha computes; the
    frozen first layer's gradient is never needed)."""
    h1, h2, probs = forward(p, x)
    n = x.shape[0]
    dz = probs
    dz[np.arange(n), labels] -= 1
    dh2 = (dz @ p[2][0]) * h2 * (1 - h2)
    return dh2[:, :20].T @ h1[:, 60:], dh2[:, 20:].T @ h1[:, :60]


def batch_starts(batch, per_epoch, limit, epochs):
    ctr, out = 0, []
    for _ in range(epochs):
        starts = []
        for _ in range(per_epoch):
            starts.append(ctr)
            ctr += batch
            if ctr + batch > limit:
                ctr = 0
        out.append(starts)
    return out


def accuracy(p, x, labels):
    return 100.0 * float((predict(p, x) == labels).mean())


def train_net(rng, train_x, train_y, limit, per_epoch, val, epochs, lr=np.float32(0.01), batch=100):
    p = init_mlp(rng, [784, 60, 20, 10])
    for starts in batch_starts(batch, per_epoch, limit, epochs):
        for s in starts:
            _, _, _, g = gradients(p, train_x[s:s + batch], train_y[s:s + batch])
            for layer, gl in zip(p, g):
                layer[0] -= lr * gl[0]
                if gl[1] is not None:
                    layer[1] -= lr * gl[1]
        accuracy(p, train_x[val[0]:val[1]], train_y[val[0]:val[1]])
    return p


def compose(p1, p2, a1, a2):
    return [
        [np.concatenate([p1[0][0], p2[0][0]]), np.concatenate([p1[0][1], p2[0][1]])],
        [np.block([[p1[1][0], a1], [a2, p2[1][0]]]), np.concatenate([p1[1][1], p2[1][1]])],
        [np.concatenate([p1[2][0], p2[2][0]], axis=1), p1[2][1]],
    ]


def main():
    manifest = json.load(open(sys.argv[1]))
    epochs = [5, 5, 40]
    if "--epochs" in sys.argv:
        epochs = [int(e) for e in sys.argv[sys.argv.index("--epochs") + 1].split(",")]
    timings = {}
    t0 = time.perf_counter()
    mnist = load(manifest["mnist"])
    fashion = load(manifest["fashion"])
    timings["data"] = time.perf_counter() - t0
    rng = np.random.default_rng(0)

    t = time.perf_counter()
    pm = train_net(rng, mnist["trainImages"], mnist["trainLabels"], 50000, 500, (50000, 50100), epochs[0])
    timings["mnist"] = time.perf_counter() - t
    t = time.perf_counter()
    pf = train_net(rng, fashion["trainImages"], fashion["trainLabels"], 60000, 600, (30000, 30100), epochs[1])
    timings["fashion"] = time.perf_counter() - t

    t = time.perf_counter()
    x = np.concatenate([mnist["trainImages"], fashion["trainImages"]])
    y = np.concatenate([mnist["trainLabels"], fashion["trainLabels"]])
    take = rng.permutation(x.shape[0])[:2000]
    sx, sy = x[take], y[take]
    del x, y
    timings["shuffle"] = time.perf_counter() - t

    t = time.perf_counter()
    a1 = np.zeros((20, 60), np.float32)
    a2 = np.zeros((20, 60), np.float32)
    lr = np.float32(0.01)
    fx, fy = fashion["trainImages"][30000:31000], fashion["trainLabels"][30000:31000]
    for starts in batch_starts(100, 20, 2000, epochs[2]):
        for s in starts:
            g1, g2 = alpha_gradients(compose(pm, pf, a1, a2), sx[s:s + 100], sy[s:s + 100])
            a1 -= lr * g1
            a2 -= lr * g2
        accuracy(compose(pm, pf, a1, a2), fx, fy)
    timings["stitch"] = time.perf_counter() - t

    t = time.perf_counter()
    stitched = compose(pm, pf, a1, a2)
    acc = {
        "mnist": {"alone": accuracy(pm, mnist["testImages"], mnist["testLabels"]), "stitched": accuracy(stitched, mnist["testImages"], mnist["testLabels"])},
        "fashion": {"alone": accuracy(pf, fashion["testImages"], fashion["testLabels"]), "stitched": accuracy(stitched, fashion["testImages"], fashion["testLabels"])},
    }
    timings["evaluation"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps({"timings": timings, "accuracy": acc, "peakRssMB": peak_mb, "numpy": np.__version__, "epochs": epochs}))


if __name__ == "__main__":
    main()
