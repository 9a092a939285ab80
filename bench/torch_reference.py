"""
PyTorch reference for the training-throughput benchmark (bench/index.ts): the same PixelCNN models as
lib/models, written the way the original PyTorch project wrote them, i.e. with FULL kernels multiplied by
masks (no cropping):

- simple: k x k convolutions whose weights are multiplied by the raster-scan mask (mask A in the first layer,
  B after; colour groups at the centre tap), ReLU, a colour-masked 1x1 convolution to C*256 logits;
- gated: per layer a k x k vertical convolution (rows below the centre masked out, then the features shifted
  down one row), a 1 x k horizontal convolution (taps right of the centre masked out, centre tap
  colour-masked), a 1x1 vertical->horizontal link, the gate tanh(a) * sigmoid(b), a colour-masked 1x1 output
  convolution and a residual connection from the second layer on; ReLU and a colour-masked 1x1 convolution to
  C*256 logits. Layer shapes, biases and masks are those of lib/models/gated.ts; only the kernels are full
  (k x k and 1 x k instead of our cropped (k//2+1) x k and 1 x (k//2+1)), as in the original.

Loss: 256-way softmax cross-entropy per subpixel (mean), Adam (lr 1e-3). Data: random bytes (the work per
step does not depend on the values). Written from scratch for this benchmark.

  /usr/bin/python3 bench/torch_reference.py --model gated --height 28 --width 28 --colours 1 \
      --layers 5 --kernel 5 --channels 30 --batch 64 --warmup 2 --steps 5 --threads 1

Prints progress on stderr and one line `BENCH_RESULT {json}` on stdout.
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


def colour_mask(kind, in_ch, out_ch, colours, out_group_ch=None):
    """[out, in] 0/1 mask of the current-pixel tap: output group g may read input groups < g (A) or <= g (B)."""
    out_group_ch = out_group_ch or out_ch
    m = torch.zeros(out_ch, in_ch)
    for o in range(out_ch):
        og = (o % out_group_ch) // (out_group_ch // colours)
        for i in range(in_ch):
            ig = i // (in_ch // colours)
            m[o, i] = 1.0 if (og > ig if kind == 'A' else og >= ig) else 0.0
    return m


class MaskedConv(nn.Module):
    """A convolution whose weight is multiplied by a constant mask on every forward pass."""

    def __init__(self, in_ch, out_ch, kernel, padding, mask):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, padding=padding)
        self.register_buffer('mask', mask)

    def forward(self, x):
        return F.conv2d(x, self.conv.weight * self.mask, self.conv.bias, padding=self.conv.padding)


def spatial_mask(kind, k, in_ch, out_ch, colours):
    m = torch.zeros(out_ch, in_ch, k, k)
    c = k // 2
    m[:, :, :c, :] = 1
    m[:, :, c, :c] = 1
    m[:, :, c, c] = colour_mask(kind, in_ch, out_ch, colours)
    return m


class SimplePixelCNN(nn.Module):
    def __init__(self, colours, layers, k, channels):
        super().__init__()
        p = k // 2
        self.colours = colours
        self.hidden = nn.ModuleList([
            MaskedConv(colours if l == 0 else channels, channels, k, p,
                       spatial_mask('A' if l == 0 else 'B', k, colours if l == 0 else channels, channels, colours))
            for l in range(layers)])
        out_mask = colour_mask('B', channels, colours * 256, colours).view(colours * 256, channels, 1, 1)
        self.output = MaskedConv(channels, colours * 256, 1, 0, out_mask)

    def forward(self, x):
        for conv in self.hidden:
            x = F.relu(conv(x))
        return self.output(x)  # [N, C*256, H, W], channel c*256+v = logit of value v for colour c


def gate(x):
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


def shift_down(x):
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1, :]


class GatedLayer(nn.Module):
    def __init__(self, in_ch, c, k, colours, first, last):
        super().__init__()
        p = k // 2
        kind = 'A' if first else 'B'
        vmask = torch.ones(2 * c, in_ch, k, k)
        vmask[:, :, p + 1:, :] = 0  # current row and the rows above (shifted down before the link)
        hmask = torch.ones(2 * c, in_ch, 1, k)
        hmask[:, :, :, p + 1:] = 0
        hmask[:, :, 0, p] = colour_mask(kind, in_ch, 2 * c, colours, c)
        self.vertical = MaskedConv(in_ch, 2 * c, k, p, vmask)
        self.horizontal = MaskedConv(in_ch, 2 * c, (1, k), (0, p), hmask)
        self.link = nn.Conv2d(2 * c, 2 * c, 1)
        self.output = MaskedConv(c, c, 1, 0, colour_mask('B', c, c, colours).view(c, c, 1, 1))
        self.residual = not first
        self.last = last

    def forward(self, v, h):
        vf = self.vertical(v)
        hpre = self.horizontal(h) + self.link(shift_down(vf))
        hout = self.output(gate(hpre))
        v_next = v if self.last else gate(vf)
        return v_next, (h + hout if self.residual else hout)


class GatedPixelCNN(nn.Module):
    def __init__(self, colours, layers, k, channels):
        super().__init__()
        self.layers = nn.ModuleList([
            GatedLayer(colours if l == 0 else channels, channels, k, colours, l == 0, l == layers - 1)
            for l in range(layers)])
        out_mask = colour_mask('B', channels, colours * 256, colours).view(colours * 256, channels, 1, 1)
        self.output = MaskedConv(channels, colours * 256, 1, 0, out_mask)

    def forward(self, x):
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h)
        return self.output(F.relu(h))


def conv_flops(model, x):
    """FLOPs (2 x multiply-adds) of every convolution in one forward pass, counted with forward hooks on the
    executed (full, zero-masked) kernels: 2 * N * Ho * Wo * Kh * Kw * Cin * Cout."""
    total = [0]

    def hook(module, inputs, output):
        w = module.conv.weight if isinstance(module, MaskedConv) else module.weight
        n, _, ho, wo = output.shape
        total[0] += 2 * n * ho * wo * w.shape[1] * w.shape[2] * w.shape[3] * w.shape[0]

    inner = {id(m.conv) for m in model.modules() if isinstance(m, MaskedConv)}
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, MaskedConv) or (isinstance(m, nn.Conv2d) and id(m) not in inner)]
    with torch.no_grad():
        model(x)
    for hnd in handles:
        hnd.remove()
    return total[0]


def first_layer_flops(model, x):
    """Forward FLOPs of the convolutions that read the input image (their dX is never computed)."""
    first = model.hidden[0:1] if isinstance(model, SimplePixelCNN) else [model.layers[0].vertical, model.layers[0].horizontal]
    n, _, h, w = x.shape
    total = 0
    for m in first:
        wt = m.conv.weight
        total += 2 * n * h * w * wt.shape[1] * wt.shape[2] * wt.shape[3] * wt.shape[0]
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=['simple', 'gated'], required=True)
    ap.add_argument('--height', type=int, default=28)
    ap.add_argument('--width', type=int, default=28)
    ap.add_argument('--colours', type=int, default=1)
    ap.add_argument('--layers', type=int, default=5)
    ap.add_argument('--kernel', type=int, default=5)
    ap.add_argument('--channels', type=int, default=30)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cls = SimplePixelCNN if a.model == 'simple' else GatedPixelCNN
    model = cls(a.colours, a.layers, a.kernel, a.channels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n, c, hh, ww = a.batch, a.colours, a.height, a.width
    raw = torch.randint(0, 256, (n, c, hh, ww))
    x = raw.float() / 127.5 - 1
    target = raw.view(n * c, hh, ww)

    def step():
        opt.zero_grad()
        logits = model(x).view(n * c, 256, hh, ww)
        loss = F.cross_entropy(logits, target)
        loss.backward()
        opt.step()
        return loss.item()

    forward = conv_flops(model, x)
    training = 3 * forward - first_layer_flops(model, x)
    times, cpu_times = [], []
    for s in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if s >= a.warmup:
            times.append(dt)
            cpu_times.append(dc)
        print(f'torch {a.model} step {s + 1}/{a.warmup + a.steps}: {dt * 1000:.0f} ms, loss {loss:.3f} nats'
              f'{" (warm-up)" if s < a.warmup else ""}', file=sys.stderr, flush=True)
    median = statistics.median(times)
    result = {
        'torch_version': torch.__version__,
        'threads': torch.get_num_threads(),
        'model': a.model,
        'batch': a.batch,
        'warmup_steps': a.warmup,
        'step_seconds': times,
        'median_step_seconds': median,
        'images_per_s': a.batch / median,
        'step_cpu_seconds': cpu_times,
        'images_per_cpu_s': a.batch / statistics.median(cpu_times),
        'conv_gflop_per_step': training / 1e9,
        'conv_gflop_forward': forward / 1e9,
        'achieved_conv_gflops': training / median / 1e9,
        'parameters': sum(p.numel() for p in model.parameters()),
        'peak_rss_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    print('BENCH_RESULT ' + json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
