"""Prints the reference numbers of Tests/GANTests/FastGANCrossCheckTests.swift: the fastgan G and D
(scripts/torch_fastgan.py) in PyTorch, float64, at 64 × 64 (so skip-layer excitation runs), width 2 (every
channel count at its floor of 8 or above), z 8, batch 2, with weights and inputs from a multiplicative hash
every language rebuilds exactly (`wave`).

One training-mode pass, as the test makes it: G forward (BatchNorm with batch statistics, one spectral-norm
power iteration per forward, noise replayed from the engine's PCG32 stream of seed 7); D on real and the
detached fake; D's loss: random hinge with hashed margins + the two decoders' L1 on quadrant 2 (bottom left);
its gradients. Then G forward again (the stream continues), D on that fake, G's hinge loss; the gradients
at D's input and of G's parameters. No augmentation, no LeCam (the trainer's own tests cover those).

Usage (torch lives outside the repository, e.g. in a virtual environment):
    PYTHON scripts/fastgan_reference.py > numbers   and paste them into the test.
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_fastgan as fastgan  # noqa: E402

torch.set_default_dtype(torch.float64)
R, W, Z, N = 64, 2, 8, 2
NOISE_SEED, QUADRANT_SEED, QUADRANT = 7, 2, 2


def wave(count, scale, offset, key):
    """Uniform in [offset - scale, offset + scale) from a multiplicative hash of (index, key)."""
    i = np.arange(count, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(key) * np.uint64(40503)) % np.uint64(1 << 32)
    return (h.astype(np.float64) / 2.0**32 * 2 - 1) * scale + offset


class PCG32:
    """The engine's RNG (Sources/Neural/RNG.swift), bit for bit: PCG32 XSH-RR, Box-Muller normals in float64
    rounded to float32."""
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.lcg, self.increment = 0, (((seed ^ 0xDA3E39CB94B95BDB) << 1) | 1) & self.MASK
        self.next32()
        self.lcg = (self.lcg + seed) & self.MASK
        self.next32()

    def next32(self):
        old = self.lcg
        self.lcg = (old * 6364136223846793005 + self.increment) & self.MASK
        shifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rotation = old >> 59
        return ((shifted >> rotation) | (shifted << ((-rotation) & 31))) & 0xFFFFFFFF

    def integer(self, bound):
        return (self.next32() * bound) >> 32

    def normal(self):
        u1 = 1.0 - (self.next32() >> 8) / 16777216.0
        u2 = (self.next32() >> 8) / 16777216.0
        return float(np.float32(math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)))

    def normals(self, shape):
        return torch.tensor([self.normal() for _ in range(math.prod(shape))]).reshape(shape)


def fill(net, key_base):
    """Parameters in name order get keys key_base, key_base + 1, ...: BatchNorm weights 1 ± 0.2, noise
    strengths ± 0.3, biases ± 0.05, convolution weights ± 0.15; spectral norm's u and v (in name order,
    keys key_base + 500, ...) hashed and normalised."""
    parameters = dict(net.named_parameters())
    for k, name in enumerate(sorted(parameters)):
        p = parameters[name]
        if p.numel() == 1:
            scale, offset = 0.3, 0.0
        elif p.dim() == 1:
            scale, offset = (0.2, 1.0) if name.endswith("weight") else (0.05, 0.0)
        else:
            scale, offset = 0.15, 0.0
        p.data = torch.from_numpy(wave(p.numel(), scale, offset, key_base + k).reshape(p.shape))
    buffers = dict(net.named_buffers())
    vectors = sorted(name for name in buffers if name.endswith(("weight_u", "weight_v")))
    for k, name in enumerate(vectors):
        values = wave(buffers[name].numel(), 1.0, 0.0, key_base + 500 + k)
        buffers[name].copy_(torch.from_numpy(values / np.linalg.norm(values)))


def strided(t, n=24):
    f = t.detach().reshape(-1).numpy()
    return [float(f[(i * 97) % f.size]) for i in range(n)]


def summary(t):
    """A cosine-weighted sum, the sum of magnitudes and two entries, so any wrong element shows."""
    f = t.detach().reshape(-1).numpy()
    i = np.arange(f.size)
    return [float((f * np.cos(0.5 * i)).sum()), float(np.abs(f).sum()), float(f[f.size // 3]), float(f[2 * f.size // 3])]


def main():
    noise = PCG32(NOISE_SEED)
    assert PCG32(QUADRANT_SEED).integer(4) == QUADRANT
    g = fastgan.Generator(R, W, Z, noise_source=noise.normals)
    d = fastgan.Discriminator(R, W)
    with torch.no_grad():
        fill(g, 0)
        fill(d, 100)
    g.train()
    d.train()
    z = torch.from_numpy(wave(N * Z, 1.5, 0, 200).reshape(N, Z, 1, 1))
    real = torch.from_numpy(wave(N * 3 * R * R, 0.9, 0, 300).reshape(N, 3, R, R))
    out = {}

    fake = g(z)
    out["fake"] = strided(fake)
    norms = [m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    out["running"] = [float(m.running_mean.sum()) for m in norms] + [float(m.running_var.sum()) for m in norms]

    logits = d(torch.cat([real, fake.detach()])).reshape(-1)
    out["logits"] = logits.detach().tolist()
    count = logits.numel() // 2
    margins = torch.from_numpy(wave(logits.numel(), 0.1, 0.9, 400))
    hinge = torch.relu(margins[:count] - logits[:count]).mean() + torch.relu(margins[count:] + logits[count:]).mean()
    whole, part = d.reconstruct(N, QUADRANT)
    whole_target, part_target = fastgan.reconstruction_targets(real, QUADRANT)
    whole_loss, part_loss = (whole - whole_target).abs().mean(), (part - part_target).abs().mean()
    kinks = torch.cat([margins[:count] - logits[:count], margins[count:] + logits[count:]]).detach()
    # L1's gradient is a sign: a difference near 0 would make float32 and float64 disagree.
    closest = min(float((whole - whole_target).detach().abs().min()), float((part - part_target).detach().abs().min()))
    print(f"closest reconstruction difference {closest:.3g}, closest hinge {float(kinks.abs().min()):.3g}",
          file=sys.stderr)
    out["reconstruction.whole"] = strided(whole)
    out["reconstruction.part"] = strided(part)
    (hinge + whole_loss + part_loss).backward()
    for name, p in d.named_parameters():
        out["D." + name] = summary(p.grad)

    fake2 = g(z)
    fake2.retain_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    g.zero_grad()
    loss_g = -d(fake2).mean()
    loss_g.backward()
    out["losses"] = [float(x.detach()) for x in (hinge, whole_loss, part_loss, loss_g)]
    out["dx"] = strided(fake2.grad)
    out["D.input"] = summary(fake2.grad)
    for name, p in g.named_parameters():
        out["G." + name] = summary(p.grad)

    print("    static let reference: [String: [Double]] = [")
    for k in sorted(out):
        print(f'        "{k}": [' + ", ".join(f"{x:.9g}" for x in out[k]) + "],")
    print("    ]")
    print("values:", sum(len(v) for v in out.values()), file=sys.stderr)


if __name__ == "__main__":
    main()
