"""The engine's reference `dcgan` architecture and its `resize` variant (Sources/GAN/DCGAN.swift) and the
dcgan training step (Sources/GAN/GANTrainer.swift) in PyTorch: the model behind the cross-check's reference
numbers (Tests/GANTests/CrossCheckTests.swift) and the dcgan rows of the speed comparison
(scripts/bench-vs-torch). Both nets are plain `nn.Sequential` stacks whose indices are the engine's layer
indices, so every state-dict name equals the engine's (G.0.weight, G.1.bias, D.6.weight, ...); G takes its
latent as N × z × 1 × 1, as the engine's does.

Run on its own it times the training step at the reference shapes (R64, W64, batch 16: median of STEPS after
2 warm-up steps, and the CPU time of all threads per step):
    python scripts/torch_dcgan.py [RESOLUTION] [WIDTH] [BATCH] [STEPS] [THREADS]
THREADS sets torch's intra-op threads (default: torch's choice, the cores). The generator's frames/s in eval
mode, batches of 30 (median of 10 after 2 warm-up batches):
    python scripts/torch_dcgan.py generate [RESOLUTION] [WIDTH] [THREADS]
The reference table of CrossCheckTests.swift (float64, hashed weights; paste it over the test's table):
    python scripts/torch_dcgan.py crosscheck
"""
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fastgan import diff_augment  # noqa: E402  (the engine's DiffAugment, shared with fastgan)


def stages(resolution):
    """How many maps G grows through before the picture: 32 → 3 (4, 8, 16), 64 → 4, ... ."""
    return {32: 3, 64: 4, 128: 5, 256: 6}[resolution]


def generator_widths(resolution, width):
    """Widest first: R64 W64 gives 512, 256, 128, 64."""
    n = stages(resolution)
    return [width * min(8, 2 ** (n - 1 - i)) for i in range(n)]


def discriminator_widths(resolution, width):
    """Narrowest first: R64 W64 gives 64, 128, 256, 512."""
    return [width * min(8, 2 ** i) for i in range(stages(resolution))]


def generator(resolution, width, z_dim=128, resize=False):
    """z: N × z × 1 × 1 → N × 3 × R × R in (−1, 1). A 4 × 4 transposed convolution makes the 4 × 4 map; each
    doubling after it is ConvTranspose2d(4, 2, 1), or with `resize` nearest Upsample(2) + Conv2d(3, 1, 1);
    BatchNorm + ReLU after all but the last, whose output goes through tanh. No bias before a BatchNorm."""
    def double(a, b, bias):
        if resize:
            return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(a, b, 3, 1, 1, bias=bias)]
        return [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=bias)]

    widths = generator_widths(resolution, width)
    layers = [nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=False), nn.BatchNorm2d(widths[0]),
              nn.ReLU(inplace=True)]
    for a, b in zip(widths, widths[1:]):
        layers += double(a, b, False) + [nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
    layers += double(widths[-1], 3, True) + [nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(resolution, width):
    """pictures N × 3 × R × R → logits N × 1 × 1 × 1: Conv2d(4, 2, 1) + LeakyReLU(0.2) down to 4 × 4, no
    normalisation, then a 4 × 4 convolution to one logit."""
    widths = discriminator_widths(resolution, width)
    layers = [nn.Conv2d(3, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Conv2d(a, b, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 0))
    return nn.Sequential(*layers)


class TrainingStep:
    """GANTrainer.step for dcgan with train's defaults: D on real and detached fake in one batch through
    DiffAugment (colour, translation, cutout), hinge loss, Adam on D; G on a fresh fake through DiffAugment
    and the updated D, Adam on G; G's moving average. Adam: rate 2e-4, betas (0.5, 0.99)."""

    def __init__(self, resolution, width, z_dim=128, ema_decay=0.999):
        self.g, self.d = generator(resolution, width, z_dim), discriminator(resolution, width)
        for net in (self.g, self.d):
            for module in net.modules():
                if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.normal_(module.weight, 0, 0.02)
        self.g_ema = generator(resolution, width, z_dim).eval()
        self.g_ema.load_state_dict(self.g.state_dict())
        self.opt_g = torch.optim.Adam(self.g.parameters(), 2e-4, betas=(0.5, 0.99))
        self.opt_d = torch.optim.Adam(self.d.parameters(), 2e-4, betas=(0.5, 0.99))
        self.z_dim, self.ema_decay = z_dim, ema_decay

    def latent(self, n):
        return torch.randn(n, self.z_dim, 1, 1)

    def __call__(self, real):
        n = real.shape[0]
        fake = self.g(self.latent(n))
        logits = self.d(diff_augment(torch.cat([real, fake.detach()]))).reshape(-1)
        loss_d = F.relu(1 - logits[:n]).mean() + F.relu(1 + logits[n:]).mean()
        self.opt_d.zero_grad(set_to_none=False)
        loss_d.backward()
        self.opt_d.step()

        for p in self.d.parameters():
            p.requires_grad_(False)
        loss_g = -self.d(diff_augment(self.g(self.latent(n)))).mean()
        self.opt_g.zero_grad(set_to_none=False)
        loss_g.backward()
        self.opt_g.step()
        for p in self.d.parameters():
            p.requires_grad_(True)

        with torch.no_grad():
            for average, current in zip(self.g_ema.parameters(), self.g.parameters()):
                average.lerp_(current, 1 - self.ema_decay)
            for average, current in zip(self.g_ema.buffers(), self.g.buffers()):
                average.copy_(current)
        return float(loss_d.detach()), float(loss_g.detach())


def main(resolution=64, width=64, batch=16, steps=10, threads=None):
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    step = TrainingStep(resolution, width)
    real = torch.rand(batch, 3, resolution, resolution) * 2 - 1
    for _ in range(2):
        step(real)
    times = []
    cpu = time.process_time()
    for _ in range(steps):
        start = time.perf_counter()
        step(real)
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    cpu_per_step = (time.process_time() - cpu) / steps
    gp, dp = (sum(p.numel() for p in net.parameters()) for net in (step.g, step.d))
    # scripts/bench-vs-torch reads the wall time from "step=… ms".
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} dcgan res={resolution} width={width} "
          f"batch={batch} G={gp / 1e6:.2f}M D={dp / 1e6:.2f}M step={seconds * 1000:.1f} ms median of {steps} "
          f"({batch / seconds:.1f} img/s), cpu {cpu_per_step * 1000:.1f} ms/step")


def generate(resolution=64, width=64, threads=None):
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    g = generator(resolution, width).eval()
    times = []
    with torch.no_grad():
        for run in range(12):
            z = torch.randn(30, 128, 1, 1)
            start = time.perf_counter()
            g(z)
            if run >= 2:
                times.append(time.perf_counter() - start)
    print(f"torch generate dcgan R{resolution} W{width} threads={torch.get_num_threads()} eval batch 30: "
          f"{30 / sorted(times)[len(times) // 2]:.1f} frames/s")


# The cross-check: one training-mode forward and backward of G and D at R32, W2, z 8, batch 4 in float64,
# without augmentation, from weights and inputs the Swift test rebuilds exactly.
CHECK_R, CHECK_W, CHECK_Z, CHECK_N = 32, 2, 8, 4


def wave(count, scale, offset, key):
    """Uniform in [offset - scale, offset + scale) from a multiplicative hash of (index, key), as
    CrossCheck.hashed in Tests/GANTests/CrossCheckSupport.swift; exact in float64."""
    i = torch.arange(count, dtype=torch.int64)
    h = (i * 2654435761 + key * 40503) % (1 << 32)
    return (h.to(torch.float64) / 2.0**32 * 2 - 1) * scale + offset


def fill(net, key_base):
    """The k-th parameter gets key key_base + k: BatchNorm weights around 1 (±0.2), biases ±0.05,
    convolution weights ±0.15."""
    with torch.no_grad():
        for k, (name, p) in enumerate(net.named_parameters()):
            if p.dim() > 1:
                scale, offset = 0.15, 0.0
            else:
                scale, offset = (0.2, 1.0) if name.endswith("weight") else (0.05, 0.0)
            p.copy_(wave(p.numel(), scale, offset, key_base + k).reshape(p.shape))


def strided(t):
    """24 entries at a stride of 97 through the flattened tensor (CrossCheck.strided)."""
    flat = t.detach().reshape(-1)
    return [float(flat[(i * 97) % flat.numel()]) for i in range(24)]


def summary(t):
    """A cosine-weighted sum, the sum of magnitudes and the entries at 1/3 and 2/3 (CrossCheck.summary)."""
    flat = t.detach().reshape(-1)
    cosines = torch.cos(0.5 * torch.arange(flat.numel(), dtype=torch.float64))
    return [float((flat * cosines).sum()), float(flat.abs().sum()),
            float(flat[flat.numel() // 3]), float(flat[2 * flat.numel() // 3])]


def crosscheck_numbers():
    """The test's numbers, in the table's order: G's first forward and its running statistics; D on real
    and the detached fake, D's hinge loss and its gradients; G forward again, D (frozen) on that fake, G's
    hinge loss, the gradient at D's input and G's gradients; then the resize generator (same weights'
    keys, same z) through the same D."""
    torch.set_default_dtype(torch.float64)
    r, n = CHECK_R, CHECK_N
    g, d = generator(r, CHECK_W, CHECK_Z), discriminator(r, CHECK_W)
    fill(g, 0)
    fill(d, 100)
    z = wave(n * CHECK_Z, 1.5, 0, 200).reshape(n, CHECK_Z, 1, 1)
    real = wave(n * 3 * r * r, 0.9, 0, 300).reshape(n, 3, r, r)
    g.train()
    d.train()
    out = {}

    fake = g(z)
    out["fake"] = strided(fake)
    norms = [m for m in g if isinstance(m, nn.BatchNorm2d)]
    out["running"] = [float(m.running_mean.sum()) for m in norms] + [float(m.running_var.sum()) for m in norms]
    logits = d(torch.cat([real, fake.detach()])).reshape(-1)
    out["logits"] = [float(x) for x in logits.detach()]
    loss_d = F.relu(1 - logits[:n]).mean() + F.relu(1 + logits[n:]).mean()
    loss_d.backward()
    for name, p in d.named_parameters():
        out["D." + name] = summary(p.grad)

    for p in d.parameters():
        p.requires_grad_(False)
    fake2 = g(z)
    fake2.retain_grad()
    loss_g = -d(fake2).mean()
    loss_g.backward()
    out["losses"] = [float(loss_d.detach()), float(loss_g.detach())]
    out["dx"] = strided(fake2.grad)
    out["D.input"] = summary(fake2.grad)
    for name, p in g.named_parameters():
        out["G." + name] = summary(p.grad)

    resized = generator(r, CHECK_W, CHECK_Z, resize=True)
    fill(resized, 0)
    resized.train()
    fake_r = resized(z)
    out["resize.fake"] = strided(fake_r)
    loss_r = -d(fake_r).mean()
    loss_r.backward()
    out["resize.loss"] = [float(loss_r.detach())]
    for name, p in resized.named_parameters():
        out["resize.G." + name] = summary(p.grad)
    return out


def crosscheck():
    """Prints the table as Swift source, 9 significant digits, and the count of values on stderr."""
    numbers = crosscheck_numbers()
    print("    static let reference: [String: [Double]] = [")
    for key, values in numbers.items():
        print(f'        "{key}": [' + ", ".join(f"{x:.9g}" for x in values) + "],")
    print("    ]")
    print(f"values: {sum(len(v) for v in numbers.values())}", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"]:
        generate(*[int(a) for a in sys.argv[2:]])
    elif sys.argv[1:2] == ["crosscheck"]:
        crosscheck()
    else:
        main(*[int(a) for a in sys.argv[1:]])
