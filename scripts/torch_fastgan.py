"""The engine's fastgan model (Sources/GAN/FastGAN.swift) and its training step (Sources/GAN/GANTrainer.swift)
in PyTorch: one definition for the cross-check's reference numbers (scripts/fastgan_reference.py) and the
speed comparison (scripts/bench-vs-torch). Modules are laid out so that every state-dict name equals the
engine's (G.init.0.weight_orig, D.down_16.main.0.weight_u, ...). Spectral norm is PyTorch's hook-based
`torch.nn.utils.spectral_norm`, whose names (weight_orig, weight_u, weight_v) the engine's checkpoints use.

Run on its own it times the training step (median of STEPS after 2 warm-up steps, and the CPU time of all
threads per step, which a busy machine disturbs less):
    python scripts/torch_fastgan.py [RESOLUTION] [WIDTH] [BATCH] [STEPS] [THREADS]
THREADS sets torch's intra-op threads (default: torch's choice, the cores). The generator's frames/s in eval
mode, batches of 30 (median of 10 after 2 warm-up batches):
    python scripts/torch_fastgan.py generate [RESOLUTION] [WIDTH] [THREADS]
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

RECONSTRUCTION_SIZE = 32


def generator_channels(r, width):
    eighths = {4: 64, 8: 32, 16: 16, 32: 8, 64: 4, 128: 2, 256: 1}[r]
    return max(8, width * eighths // 8)


def discriminator_channels(r, width):
    return max(8, width * 64 // r)


def conv(a, b, kernel, stride=1, padding=0, bias=True):
    return spectral_norm(nn.Conv2d(a, b, kernel, stride, padding, bias=bias))


class NoiseInjection(nn.Module):
    """x + weight · a standard-normal map per sample (the same for every channel); eval passes x through,
    as the engine's does. `source(shape)` gives the map: torch.randn unless the caller must replay the
    engine's random stream."""

    def __init__(self, source=None):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.source = source or (lambda shape: torch.randn(shape))

    def forward(self, x):
        if not self.training:
            return x
        n, _, h, w = x.shape
        return x + self.weight * self.source((n, 1, h, w)).to(x.dtype)


def up_block(a, b, two_convolutions, noise_source=None):
    """Nearest ×2 → conv 3×3 → [noise] → BN → GLU (twice with `two_convolutions`), as a flat list."""
    def convolution(c):
        return ([conv(c, 2 * b, 3, padding=1, bias=False)] + ([NoiseInjection(noise_source)] if noise_source else [])
                + [nn.BatchNorm2d(2 * b), nn.GLU(dim=1)])
    return [nn.Upsample(scale_factor=2, mode="nearest")] + convolution(a) + (convolution(b) if two_convolutions else [])


class SkipLayerExcitation(nn.Module):
    def __init__(self, small_channels, big_channels):
        super().__init__()
        self.main = nn.Sequential(nn.AdaptiveAvgPool2d(4), conv(small_channels, big_channels, 4, bias=False), nn.SiLU(),
                                  conv(big_channels, big_channels, 1, bias=False), nn.Sigmoid())

    def forward(self, small, big):
        return big * self.main(small)


class Generator(nn.Module):
    """z: N × z × 1 × 1 → N × 3 × R × R. Noise injection in the blocks to 8, 32, 128 (odd levels) draws
    from `noise_source` when given."""

    def __init__(self, resolution, width, z_dim, noise_source=None):
        super().__init__()
        self.levels = resolution.bit_length() - 3        # 4 · 2^levels = R
        channels = [generator_channels(4 << level, width) for level in range(self.levels + 1)]
        self.init = nn.Sequential(spectral_norm(nn.ConvTranspose2d(z_dim, 2 * channels[0], 4, bias=False)),
                                  nn.BatchNorm2d(2 * channels[0]), nn.GLU(dim=1))
        for level in range(1, self.levels + 1):
            compound = level % 2 == 1
            self.add_module(f"feat_{4 << level}", nn.Sequential(*up_block(
                channels[level - 1], channels[level], compound, noise_source if compound else None)))
        for level in range(4, self.levels + 1):
            self.add_module(f"se_{4 << level}", SkipLayerExcitation(channels[level - 4], channels[level]))
        self.to_big = nn.Sequential(conv(channels[-1], 3, 3, padding=1, bias=False), nn.Tanh())

    def forward(self, z):
        features = [self.init(z)]
        for level in range(1, self.levels + 1):
            x = getattr(self, f"feat_{4 << level}")(features[-1])
            if level >= 4:
                x = getattr(self, f"se_{4 << level}")(features[level - 4], x)
            features.append(x)
        return self.to_big(features[-1])


class DownBlock(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.main = nn.Sequential(conv(a, b, 4, 2, 1), nn.LeakyReLU(0.2), conv(b, b, 3, padding=1), nn.LeakyReLU(0.2))
        self.direct = nn.Sequential(nn.AvgPool2d(2), conv(a, b, 1), nn.LeakyReLU(0.2))

    def forward(self, x):
        return 0.5 * (self.main(x) + self.direct(x))


def decoder(input_channels):
    return nn.Sequential(conv(input_channels, 16, 1, bias=False), *up_block(16, 16, False), *up_block(16, 8, False),
                         conv(8, 3, 3, padding=1), nn.Tanh())


class Discriminator(nn.Module):
    """pictures N × 3 × R × R → patch logits N × 1 × 5 × 5; `reconstruct` runs the decoders on the last
    forward's features of its first samples."""

    def __init__(self, resolution, width):
        super().__init__()
        self.resolution = resolution
        ch = lambda r: discriminator_channels(r, width)
        self.stem = nn.Sequential(conv(3, ch(resolution // 2), 4, 2, 1), nn.LeakyReLU(0.2))
        self.downs = []
        r = resolution // 2
        while r > 8:
            self.add_module(f"down_{r // 2}", DownBlock(ch(r), ch(r // 2)))
            self.downs.append(f"down_{r // 2}")
            r //= 2
        self.head = nn.Sequential(conv(ch(8), ch(8), 1), nn.LeakyReLU(0.2), conv(ch(8), 1, 4))
        self.decoder_big = decoder(ch(8))
        self.decoder_part = decoder(ch(16))

    def forward(self, x):
        x = self.stem(x)
        for name in self.downs:
            x = getattr(self, name)(x)
            if x.shape[2] == 16:
                self.features16 = x
        self.features8 = x
        return self.head(x)

    def reconstruct(self, count, quadrant):
        """Decoders on the first `count` samples: the whole picture from the 8 × 8 features, quadrant
        (0 top left, 1 top right, 2 bottom left, 3 bottom right) from that quarter of the 16 × 16 ones."""
        top, left = divmod(quadrant, 2)
        part = self.features16[:count, :, 8 * top:8 * top + 8, 8 * left:8 * left + 8]
        return self.decoder_big(self.features8[:count]), self.decoder_part(part)


def reconstruction_targets(real, quadrant):
    """The real pictures and their quadrant, averaged down (or repeated up) to the reconstruction size."""
    r = real.shape[2]
    top, left = divmod(quadrant, 2)
    half = r // 2

    def resample(x):
        side = x.shape[2]
        if side >= RECONSTRUCTION_SIZE:
            return F.avg_pool2d(x, side // RECONSTRUCTION_SIZE)
        return F.interpolate(x, scale_factor=RECONSTRUCTION_SIZE // side, mode="nearest")
    return resample(real), resample(real[:, :, half * top:half * top + half, half * left:half * left + half])


def diff_augment(x):
    """DiffAugment as the engine's (Sources/GAN/DiffAugment.swift): brightness, saturation, contrast, a
    shift of up to 1/8 with zeros shifted in, and a zeroed square of half the size, per sample."""
    n, _, h, w = x.shape
    x = x + (torch.rand(n, 1, 1, 1) - 0.5)
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1) * 2) + mean
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1) + 0.5) + mean
    # Translation: y[i, j] = x[i + dy, j + dx], read from a zero-padded copy.
    s = int(h * 0.125 + 0.5)
    dy, dx = torch.randint(-s, s + 1, (n,)), torch.randint(-s, s + 1, (n,))
    padded = F.pad(x, (s, s, s, s))
    rows = (torch.arange(h)[None, :] + s + dy[:, None])[:, None, :, None].expand(n, x.shape[1], h, w + 2 * s)
    x = padded.gather(2, rows)
    columns = (torch.arange(w)[None, :] + s + dx[:, None])[:, None, None, :].expand(n, x.shape[1], h, w)
    x = x.gather(3, columns)
    # Cutout: a half-size square at a random centre, clipped at the border.
    size = int(h * 0.5 + 0.5)
    cy, cx = torch.randint(0, h + 1 - size % 2, (n,)), torch.randint(0, w + 1 - size % 2, (n,))
    top, left = (cy - size // 2)[:, None], (cx - size // 2)[:, None]
    inside_rows = (torch.arange(h)[None, :] >= top) & (torch.arange(h)[None, :] < top + size)
    inside_columns = (torch.arange(w)[None, :] >= left) & (torch.arange(w)[None, :] < left + size)
    keep = ~(inside_rows[:, :, None] & inside_columns[:, None, :])
    return x * keep[:, None].to(x.dtype)


class TrainingStep:
    """GANTrainer.step for fastgan: D on real and detached fake in one batch through DiffAugment, random-hinge
    (margins U[0.8, 1) per logit) + LeCam (weight 0.1, decay 0.99) + the decoders' L1 on a random quadrant;
    Adam on D; G on a fresh fake through DiffAugment and the updated D; Adam on G; G's moving average."""

    def __init__(self, resolution, width, z_dim=128, lecam_weight=0.1, ema_decay=0.999):
        self.g, self.d = Generator(resolution, width, z_dim), Discriminator(resolution, width)
        for net in (self.g, self.d):
            for name, p in net.named_parameters():
                if name.endswith("weight_orig"):
                    nn.init.normal_(p, 0, 0.02)
        self.g_ema = Generator(resolution, width, z_dim).eval()
        self.g_ema.load_state_dict(self.g.state_dict())
        self.opt_g = torch.optim.Adam(self.g.parameters(), 2e-4, betas=(0.5, 0.99))
        self.opt_d = torch.optim.Adam(self.d.parameters(), 2e-4, betas=(0.5, 0.99))
        self.z_dim, self.lecam_weight, self.ema_decay = z_dim, lecam_weight, ema_decay
        self.real_average = self.fake_average = 0.0

    def lecam(self, real, fake):
        self.real_average = 0.99 * self.real_average + 0.01 * float(real.detach().mean())
        self.fake_average = 0.99 * self.fake_average + 0.01 * float(fake.detach().mean())
        return (F.relu(real - self.fake_average) ** 2).mean() + (F.relu(self.real_average - fake) ** 2).mean()

    def __call__(self, real):
        n = real.shape[0]
        fake = self.g(torch.randn(n, self.z_dim, 1, 1))
        augmented = diff_augment(torch.cat([real, fake.detach()]))
        logits = self.d(augmented).reshape(2 * n, -1)
        margins = 0.8 + 0.2 * torch.rand_like(logits)
        loss_d = F.relu(margins[:n] - logits[:n]).mean() + F.relu(margins[n:] + logits[n:]).mean()
        loss_d = loss_d + self.lecam_weight * self.lecam(logits[:n], logits[n:])
        quadrant = int(torch.randint(0, 4, ()))
        whole, part = self.d.reconstruct(n, quadrant)
        whole_target, part_target = reconstruction_targets(augmented[:n], quadrant)
        loss_d = loss_d + (whole - whole_target).abs().mean() + (part - part_target).abs().mean()
        self.opt_d.zero_grad(set_to_none=False)
        loss_d.backward()
        self.opt_d.step()

        for p in self.d.parameters():
            p.requires_grad_(False)
        loss_g = -self.d(diff_augment(self.g(torch.randn(n, self.z_dim, 1, 1)))).mean()
        self.opt_g.zero_grad(set_to_none=False)
        loss_g.backward()
        self.opt_g.step()
        for p in self.d.parameters():
            p.requires_grad_(True)

        with torch.no_grad():
            for (_, average), (_, current) in zip(self.g_ema.named_parameters(), self.g.named_parameters()):
                average.lerp_(current, 1 - self.ema_decay)
            for (_, average), (_, current) in zip(self.g_ema.named_buffers(), self.g.named_buffers()):
                average.copy_(current)
        return float(loss_d.detach()), float(loss_g.detach())


def main(resolution=64, width=16, batch=8, steps=10, threads=None):
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
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} fastgan res={resolution} width={width} "
          f"batch={batch} G={gp / 1e6:.2f}M D={dp / 1e6:.2f}M step median {seconds * 1000:.1f} ms of {steps}  ({batch / seconds:.1f} img/s), cpu {cpu_per_step * 1000:.1f} ms/step")


def generate(resolution=64, width=16, threads=None):
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    g = Generator(resolution, width, 128).eval()
    times = []
    with torch.no_grad():
        for run in range(12):
            z = torch.randn(30, 128, 1, 1)
            start = time.perf_counter()
            g(z)
            if run >= 2:
                times.append(time.perf_counter() - start)
    print(f"torch generate fastgan R{resolution} W{width} threads={torch.get_num_threads()} eval batch 30: "
          f"{30 / sorted(times)[len(times) // 2]:.1f} frames/s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"]:
        generate(*[int(a) for a in sys.argv[2:]])
    else:
        main(*[int(a) for a in sys.argv[1:]])
