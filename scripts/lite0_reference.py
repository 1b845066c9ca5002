"""Writes Tests/PerceptionTests/Fixtures/lite0-reference.json, the numbers Lite0CrossCheckTests compares the
engine's EfficientNet-Lite0 with: the same network written here in PyTorch, float64, straight from the
converted state dict (BatchNorm as BatchNorm with TensorFlow's epsilon, not folded; TF "same" padding by
F.pad), run on procedural pictures every language rebuilds (`pictures`).

For each case (input scale 1 on 64 × 64 pictures, input scale 2 on 32 × 32 ones, batch 2): per map its
mean, mean magnitude and standard deviation and 16 entries; the pooled head features (mean and 16
entries); the gradient at the pictures of L = Σᵢ Σⱼ wᵢⱼ · mapᵢⱼ with wᵢⱼ = cos(0.37 j + i) / (entries of
map i), summarised the same way plus 24 entries.

Usage (torch lives outside the repository; the weights where scripts/setup puts them):
    PYTHON scripts/lite0_reference.py [WEIGHTS.safetensors]
A throw-away interpreter with torch: python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
EPSILON = 1e-3
STAGES = [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3), (5, 1, 6, 112, 3),
          (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)]  # kernel, first stride, expansion, channels out, blocks
MAP_STAGES = (1, 2, 4, 6)
CASES = {"scale1": (1, 64), "scale2": (2, 32)}
BATCH = 2


def default_weights():
    folder = os.environ.get("MNEMOSYNE_DATA") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "mnemosyne")
    return os.path.join(folder, "efficientnet-lite0.safetensors")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[8 + length + begin:8 + length + end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = torch.from_numpy(values.astype(np.float64))
    return tensors


def pictures(batch, size):
    """Smooth stripes and a finer texture per picture and channel, in [-1, 1]."""
    n, c, y, x = np.meshgrid(np.arange(batch), np.arange(3), np.arange(size), np.arange(size), indexing="ij")
    n, c, y, x = (a.astype(np.float64) for a in (n, c, y, x))
    values = 0.9 * np.sin(0.11 * (n + 1) * x + 0.07 * (c + 1) * y + 0.5 * n + c) * np.cos(0.05 * x - 0.09 * (c + 1) * y) \
        + 0.1 * np.sin(2.3 * x + 1.9 * y + c)
    return torch.from_numpy(values.astype(np.float32).astype(np.float64))


def same_conv(x, w, stride, groups=1):
    k = w.shape[-1]
    if stride == 1:
        x = F.pad(x, [(k - 1) // 2] * 4)
    else:
        pad_h = max((math.ceil(x.shape[2] / stride) - 1) * stride + k - x.shape[2], 0)
        pad_w = max((math.ceil(x.shape[3] / stride) - 1) * stride + k - x.shape[3], 0)
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
    return F.conv2d(x, w, stride=stride, groups=groups)


def norm(x, sd, prefix):
    return F.batch_norm(x, sd[prefix + ".running_mean"], sd[prefix + ".running_var"], sd[prefix + ".weight"],
                        sd[prefix + ".bias"], training=False, eps=EPSILON)


def lite0(sd, x, scale):
    """The four maps and the pooled head features."""
    if scale > 1:
        x = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    x = ((x + 1) * 127.5 - 127) / 128
    x = F.relu6(norm(same_conv(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    maps, block = [], 0
    for stage, (kernel, first_stride, expansion, channels, count) in enumerate(STAGES):
        for r in range(count):
            p, stride = f"_blocks.{block}.", first_stride if r == 0 else 1
            y = x
            if expansion != 1:
                y = F.relu6(norm(F.conv2d(y, sd[p + "_expand_conv.weight"]), sd, p + "_bn0"))
            y = F.relu6(norm(same_conv(y, sd[p + "_depthwise_conv.weight"], stride, groups=y.shape[1]), sd, p + "_bn1"))
            y = norm(F.conv2d(y, sd[p + "_project_conv.weight"]), sd, p + "_bn2")
            x = y + x if stride == 1 and x.shape[1] == channels else y
            block += 1
        if stage in MAP_STAGES:
            maps.append(x)
    head = F.relu6(norm(F.conv2d(x, sd["_conv_head.weight"]), sd, "_bn1"))
    return maps, head.mean(dim=(2, 3))


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
