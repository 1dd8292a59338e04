#!/usr/bin/python3
"""PyTorch reference for `npm run bench`: the paper's CNN (same layers as src/model/paper-cnn.ts)
or the visemo net (src/model/visemo-net.ts), trained with Adam(1e-3) and categorical
cross-entropy at batch 32, or run for inference, on batches built from a uint8 image cache
exactly as the TypeScript benchmark builds them.

--precision bf16 runs the model under torch.autocast('cpu', dtype=torch.bfloat16) with the model
and its input in channels-last, as PyTorch is run for bf16 on CPUs: convolutions and matrix
products in bf16, the weights, the batch-norm statistics, the loss and Adam's update in fp32.
The bench asks for it only where the CPU has avx512_bf16 or AMX; elsewhere PyTorch emulates bf16
and its times mean nothing.

Prints one JSON object on stdout with every timed step (the bench takes the medians). Run with
Debian's python3-torch: /usr/bin/python3.
"""
import argparse
import contextlib
import json
import sys
import time

import numpy as np
import torch
from torch import nn

CACHE_IMAGES = 256


def paper_cnn(size: int, classes: int, channels: int = 3) -> nn.Module:
    flat = (size // 2 // 2 // 2) ** 2 * 128
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.Dropout(0.1),
        nn.MaxPool2d(2, 2),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(flat, 256), nn.ReLU(),
        nn.Linear(256, classes),  # softmax is folded into the loss, as Keras' softmax + categorical CE
    )


VISEMO_FILTERS = (32, 64, 128, 192)


def visemo_net(size: int, classes: int, channels: int, width: float = 1.0) -> nn.Module:
    """Per stage conv-relu, conv-relu, batch norm (Keras momentum 0.9 = PyTorch 0.1, epsilon 1e-3),
    2x2 max pooling; then global average pooling, dropout 0.4 and the classifier."""
    layers, c = [], channels
    # Filters per stage times the width, rounded half up as visemo's buildModel rounds them.
    for f in (int(f * width + 0.5) for f in VISEMO_FILTERS):
        layers += [
            nn.Conv2d(c, f, 3, padding=1), nn.ReLU(),
            nn.Conv2d(f, f, 3, padding=1), nn.ReLU(),
            nn.BatchNorm2d(f, eps=1e-3, momentum=0.1),
            nn.MaxPool2d(2, 2),
        ]
        c = f
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


def build(args, size: int) -> nn.Module:
    return visemo_net(size, args.classes, args.channels, args.width) if args.arch == 'visemo' else paper_cnn(size, args.classes, args.channels)


def make_batch(cache: np.ndarray, indices: np.ndarray, channels: int, precision: str = 'fp32') -> torch.Tensor:
    # uint8 gray [B, s, s] -> float32 [B, channels, s, s] in [0, 1], the monochrome image replicated.
    x = torch.from_numpy(cache[indices]).to(torch.float32).div_(255.0).unsqueeze(1)
    x = x.expand(-1, channels, -1, -1).contiguous() if channels > 1 else x
    return x.contiguous(memory_format=torch.channels_last) if precision == 'bf16' else x


def prepare(model: nn.Module, precision: str) -> nn.Module:
    """bf16: the model's weights stay fp32 (the master weights), laid out channels-last."""
    return model.to(memory_format=torch.channels_last) if precision == 'bf16' else model


def compute(precision: str):
    """The context a forward pass runs in: bf16 autocast, or nothing for fp32."""
    return torch.autocast('cpu', dtype=torch.bfloat16) if precision == 'bf16' else contextlib.nullcontext()


def bench_train(size, args, rng):
    torch.manual_seed(1)
    model = prepare(build(args, size), args.precision)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    cache = rng.integers(0, 256, size=(CACHE_IMAGES, size, size), dtype=np.uint8)
    labels = torch.from_numpy(rng.integers(0, args.classes, size=CACHE_IMAGES)).long()
    data_ms, model_ms = [], []
    for step in range(args.warmup + args.steps):
        idx = rng.integers(0, CACHE_IMAGES, size=args.batch)
        t0 = time.perf_counter()
        x = make_batch(cache, idx, args.channels, args.precision)
        y = labels[idx]
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with compute(args.precision):
            # autocast computes the cross-entropy in fp32 whatever its input's type
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        t2 = time.perf_counter()
        if step >= args.warmup:
            data_ms.append((t1 - t0) * 1e3)
            model_ms.append((t2 - t1) * 1e3)
    return {'size': size, 'dataMs': data_ms, 'modelMs': model_ms}


def bench_predict(size, args, rng):
    torch.manual_seed(1)
    model = prepare(build(args, size), args.precision).eval()
    cache = rng.integers(0, 256, size=(CACHE_IMAGES, size, size), dtype=np.uint8)
    out = {'size': size}
    with torch.no_grad(), compute(args.precision):
        for batch in (1, 16, 64):
            times = []
            for step in range(args.warmup + args.steps):
                idx = rng.integers(0, CACHE_IMAGES, size=batch)
                t0 = time.perf_counter()
                torch.softmax(model(make_batch(cache, idx, args.channels, args.precision)).float(), dim=1).numpy()
                t1 = time.perf_counter()
                if step >= args.warmup:
                    times.append((t1 - t0) * 1e3)
            out[f'batch{batch}'] = times
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('mode', choices=['train', 'predict'])
    p.add_argument('--arch', choices=['paper', 'visemo'], default='paper')
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--sizes', default='20,50,100')
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--classes', type=int, default=6)
    p.add_argument('--width', type=float, default=1.0, help="the visemo net's filters per stage times this")
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--precision', choices=['fp32', 'bf16'], default='fp32')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(1)
    sizes = [int(s) for s in args.sizes.split(',')]
    run = bench_train if args.mode == 'train' else bench_predict
    results = [run(size, args, rng) for size in sizes]
    json.dump({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'precision': args.precision, 'results': results}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
