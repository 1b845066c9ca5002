"""EfficientNet-Lite0 in PyTorch, written from the converted state dict (scripts/lite0_weights.py) as the
engine's Perception.EfficientNetLite0 computes it: BatchNorm with TensorFlow's epsilon, TF "same" padding by
F.pad, ReLU6, the four maps after stages 2, 3, 5 and 7 and the pooled head. scripts/lite0_reference.py makes
the cross-check's numbers with it (float64); `bench` times it against the engine (scripts/bench-vs-torch lite0).

Usage: PYTHON scripts/torch_lite0.py bench THREADS [RUNS] [WEIGHTS.safetensors]
  float32, BatchNorm folded into the convolutions as the engine does, 128 × 128 pictures, batch 16; prints the
  median forward (no autograd) and forward + input gradient of all four maps, and CPU time per pass.
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

EPSILON = 1e-3
STAGES = [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3), (5, 1, 6, 112, 3),
          (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)]  # kernel, first stride, expansion, channels out, blocks
MAP_STAGES = (1, 2, 4, 6)


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


def same_conv(x, w, stride, groups=1, bias=None):
    k = w.shape[-1]
    if stride == 1:
        x = F.pad(x, [(k - 1) // 2] * 4)
    else:
        pad_h = max((math.ceil(x.shape[2] / stride) - 1) * stride + k - x.shape[2], 0)
        pad_w = max((math.ceil(x.shape[3] / stride) - 1) * stride + k - x.shape[3], 0)
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
    return F.conv2d(x, w, bias, stride=stride, groups=groups)


def conv_norm(x, sd, weight, prefix, stride=1, groups=1):
    """A convolution with TF "same" padding and its BatchNorm (a bias when `folded` has folded it in)."""
    x = same_conv(x, sd[weight], stride, groups, sd.get(weight[:-len("weight")] + "bias"))
    if prefix + ".running_mean" not in sd:
        return x
    return F.batch_norm(x, sd[prefix + ".running_mean"], sd[prefix + ".running_var"], sd[prefix + ".weight"],
                        sd[prefix + ".bias"], training=False, eps=EPSILON)


def lite0(sd, x, scale, pooled=True):
    """The four maps and the pooled head features (None without `pooled`)."""
    if scale > 1:
        x = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    x = ((x + 1) * 127.5 - 127) / 128
    x = F.relu6(conv_norm(x, sd, "_conv_stem.weight", "_bn0", stride=2))
    maps, block = [], 0
    for stage, (kernel, first_stride, expansion, channels, count) in enumerate(STAGES):
        for r in range(count):
            p, stride = f"_blocks.{block}.", first_stride if r == 0 else 1
            y = x
            if expansion != 1:
                y = F.relu6(conv_norm(y, sd, p + "_expand_conv.weight", p + "_bn0"))
            y = F.relu6(conv_norm(y, sd, p + "_depthwise_conv.weight", p + "_bn1", stride, groups=y.shape[1]))
            y = conv_norm(y, sd, p + "_project_conv.weight", p + "_bn2")
            x = y + x if stride == 1 and x.shape[1] == channels else y
            block += 1
        if stage in MAP_STAGES:
            maps.append(x)
    if not pooled:
        return maps, None
    head = F.relu6(conv_norm(x, sd, "_conv_head.weight", "_bn1"))
    return maps, head.mean(dim=(2, 3))


def folded(sd):
    """The state dict with every BatchNorm folded into its convolution (weight and a bias), as the engine loads it."""
    out = {}
    norms = {"_conv_stem": "_bn0", "_conv_head": "_bn1", "_expand_conv": "_bn0", "_depthwise_conv": "_bn1", "_project_conv": "_bn2"}
    for name, w in sd.items():
        parts = name.split(".")
        if parts[-1] != "weight" or parts[-2] not in norms:
            continue
        prefix = ".".join(parts[:-2] + [norms[parts[-2]]])
        factor = sd[prefix + ".weight"] / torch.sqrt(sd[prefix + ".running_var"] + EPSILON)
        out[name] = w * factor.reshape(-1, 1, 1, 1)
        out[name[:-len("weight")] + "bias"] = sd[prefix + ".bias"] - sd[prefix + ".running_mean"] * factor
    return out


def bench(threads, runs, path):
    torch.set_num_threads(threads)
    sd = {k: v.float() for k, v in folded(read_safetensors(path)).items()}
    x = torch.rand(16, 3, 128, 128, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def forward():
        with torch.no_grad():
            lite0(sd, x, 1)

    def forward_and_gradient():
        picture = x.clone().requires_grad_(True)
        maps, _ = lite0(sd, picture, 1, pooled=False)
        torch.autograd.backward(maps, [torch.full_like(m, 0.01) for m in maps])

    def timed(body):
        body()
        cpu, times = time.process_time(), []
        for _ in range(runs):
            start = time.perf_counter()
            body()
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2] * 1000, (time.process_time() - cpu) / runs * 1000

    (fw, fc), (bw, bc) = timed(forward), timed(forward_and_gradient)
    print(f"torch lite0 128x128 batch 16, {threads} threads: forward median {fw:.2f} ms cpu {fc:.2f} ms; "
          f"forward + input gradient median {bw:.2f} ms cpu {bc:.2f} ms")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "bench":
        sys.exit("usage: torch_lite0.py bench THREADS [RUNS] [WEIGHTS.safetensors]")
    bench(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 5,
          sys.argv[4] if len(sys.argv) > 4 else default_weights())
