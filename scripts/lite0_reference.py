"""Writes Tests/PerceptionTests/Fixtures/lite0-reference.json, the numbers EfficientNetLite0Tests compares the
engine's EfficientNet-Lite0 with: the same network in PyTorch (scripts/torch_lite0.py), float64, straight from
the converted state dict (BatchNorm as BatchNorm with TensorFlow's epsilon, not folded; TF "same" padding by
F.pad), run on procedural pictures every language rebuilds (`pictures`).

For each case (input scale 1 on 64 × 64 pictures, input scale 2 on 32 × 32 ones, batch 2): per map its
mean, mean magnitude and standard deviation and 16 entries; the pooled head features (mean and 16
entries); the gradient at the pictures of L = Σᵢ Σⱼ wᵢⱼ · mapᵢⱼ with wᵢⱼ = cos(0.37 j + i) / (entries of
map i), summarised the same way plus 24 entries.

Usage (torch lives outside the repository; the weights where scripts/setup puts them):
    PYTHON scripts/lite0_reference.py [WEIGHTS.safetensors]
A throw-away interpreter with torch: python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_lite0 import default_weights, lite0, read_safetensors  # noqa: E402

torch.set_default_dtype(torch.float64)
CASES = {"scale1": (1, 64), "scale2": (2, 32)}
BATCH = 2


def pictures(batch, size):
    """Smooth stripes and a finer texture per picture and channel, in [-1, 1]."""
    n, c, y, x = np.meshgrid(np.arange(batch), np.arange(3), np.arange(size), np.arange(size), indexing="ij")
    n, c, y, x = (a.astype(np.float64) for a in (n, c, y, x))
    values = 0.9 * np.sin(0.11 * (n + 1) * x + 0.07 * (c + 1) * y + 0.5 * n + c) * np.cos(0.05 * x - 0.09 * (c + 1) * y) \
        + 0.1 * np.sin(2.3 * x + 1.9 * y + c)
    return torch.from_numpy(values.astype(np.float32).astype(np.float64))


def sampled(t, count=16):
    f = t.detach().reshape(-1).numpy()
    return [float(f[(i * 7919) % f.size]) for i in range(count)]


def statistics(t):
    f = t.detach().reshape(-1).numpy()
    return [float(f.mean()), float(np.abs(f).mean()), float(f.std())]


def loss_weights(index, count):
    return torch.from_numpy(np.cos(0.37 * np.arange(count) + index) / count)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else default_weights()
    sd = read_safetensors(path)
    out = {}
    for case, (scale, size) in CASES.items():
        x = pictures(BATCH, size).requires_grad_(True)
        maps, pooled = lite0(sd, x, scale)
        loss = sum((m.reshape(-1) * loss_weights(i, m.numel())).sum() for i, m in enumerate(maps))
        loss.backward()
        for i, m in enumerate(maps):
            out[f"{case}.map{i}.shape"] = list(m.shape)
            out[f"{case}.map{i}"] = statistics(m) + sampled(m)
        out[f"{case}.pooled"] = [float(pooled.detach().mean())] + sampled(pooled)
        out[f"{case}.gradient"] = statistics(x.grad) + sampled(x.grad, 24)
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "PerceptionTests", "Fixtures",
                          "lite0-reference.json")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        f.write("{\n" + ",\n".join(f'  "{k}": [' + ", ".join(f"{v:.10g}" for v in out[k]) + "]" for k in sorted(out)) + "\n}\n")
    print(f"lite0_reference: {len(out)} entries: {os.path.normpath(target)}", file=sys.stderr)


if __name__ == "__main__":
    main()
