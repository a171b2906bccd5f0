"""The training loop: one loop for CLIP, LiT and LoTLIP, on one CPU or many GPUs (DDP)."""
from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from pathlib import Path

import torch

from lipeval.errors import ConfigError

from . import checkpoint, distributed
from .config import dump_config
from .data import CaptionDataset, Collate, StepBatchSampler, read_manifest, synthetic_manifest
from .loss import MultiViewClipLoss
from .metrics import MetricsLog, plot_loss
from .model import ContrastiveModel, build
from .optim import build_optimizer, build_schedule, clamp_logit_scale

SUMMARY = "summary.json"


def _precision(cfg: dict, device: str) -> str:
    p = cfg["run"]["precision"]
    if p == "auto":
        return "bf16" if device.startswith("cuda") else "fp32"
    return p


def _autocast(precision: str, device: str):
    if precision == "bf16":
        from open_clip_train.precision import get_autocast

        return get_autocast("amp_bf16", device_type=torch.device(device).type)()
    return contextlib.nullcontext()


def _data_root(cfg: dict, out: Path, info: distributed.DistInfo) -> Path:
    """The synthetic suite's data root: data.root (--data), or generate it under OUT/data."""
    root = cfg["data"]["root"]
    if root:
        return Path(root)
    root = out / "data"
    if info.is_main and not (root / "synthetic" / "lipeval_synthetic.json").is_file():
        from lipeval.synthetic import generate

        generate(root, seed=0, scale=cfg["data"]["synthetic_scale"])
    distributed.barrier(info)
    return root


def _loader(cfg, out, info, tokenizer, transform, start, stop):
    d = cfg["data"]
    views = d["texts"]
    if d["source"] == "webdataset":
        from .wds import webdataset_loader

        return webdataset_loader(d["shards"], views, transform, d["augment"], Collate(tokenizer), cfg["seed"],
                                 cfg["schedule"]["batch_size"], info, start, stop, d["workers"])
    if d["source"] == "synthetic":
        manifest, image_root = synthetic_manifest(_data_root(cfg, out, info))
    else:
        manifest = Path(d["manifest"])
        image_root = Path(d["image_root"]) if d["image_root"] else manifest.parent
    records = read_manifest(manifest)
    ds = CaptionDataset(records, image_root, d["image_key"], transform, views, cfg["seed"],
                        cache_images=d["cache_images"] and d["workers"] == 0, augment=d["augment"])
    sampler = StepBatchSampler(len(ds), cfg["schedule"]["batch_size"], info.rank, info.world_size, cfg["seed"],
                               start, stop)
    return torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=Collate(tokenizer),
                                       num_workers=d["workers"], persistent_workers=False)


def _prepare_run_dir(out: Path, resume: bool, info) -> None:
    if info.is_main:
        if not resume and checkpoint.complete_steps(out):
            raise ConfigError(f"--out {out} already holds a training run; pass --resume to continue it, "
                              "or choose another --out")
        out.mkdir(parents=True, exist_ok=True)
    distributed.barrier(info)


def train(cfg: dict, out: Path, max_steps: int | None = None, resume: bool = False, log=print) -> dict:
    """Run (or resume) the training described by `cfg` into the run folder `out`; return the summary."""
    info = distributed.init(cfg["run"]["device"])
    threads = torch.get_num_threads()
    if cfg["run"]["threads"]:
        torch.set_num_threads(int(cfg["run"]["threads"]))
    try:
        return _train(cfg, Path(out), max_steps, resume, info, log)
    finally:
        torch.set_num_threads(threads)
        distributed.shutdown(info)


def _train(cfg, out, max_steps, resume, info, log) -> dict:
    device = info.device
    precision = _precision(cfg, device)
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    _prepare_run_dir(out, resume, info)
    seed = int(cfg["seed"])
    total = int(cfg["schedule"]["steps"])
    stop = min(total, max_steps) if max_steps else total

    torch.manual_seed(seed)
    clip, tokenizer, tf_train, tf_eval, config_json = build(cfg)
    start = 0
    train_state = None
    if resume:
        start, weights, train_state = checkpoint.load_latest(out)
        clip.load_state_dict(weights, strict=True)
    if info.is_main:
        checkpoint.write_config(out, config_json)
        (out / "config.yaml").write_text(dump_config(cfg))
    if cfg["run"]["sync_bn"] and info.distributed:
        if not device.startswith("cuda"):
            raise ConfigError("run.sync_bn: torch's SyncBatchNorm runs on CUDA only; set it false on the CPU")
        clip = torch.nn.SyncBatchNorm.convert_sync_batchnorm(clip)
    clip = clip.to(device)
    view_features = [v.get("features", "first") for v in cfg["data"]["texts"]]
    module = ContrastiveModel(clip, view_features, lock_image=bool(cfg["model"]["lock_image"]))
    module.train()
    optimizer = build_optimizer(clip, cfg["optim"])
    if train_state is not None:
        optimizer.load_state_dict(train_state["optimizer"])
    schedule = build_schedule(optimizer, float(cfg["optim"]["lr"]), int(cfg["schedule"]["warmup"]), total)
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel

        module = DistributedDataParallel(module, device_ids=[device] if device.startswith("cuda") else None)
    loss_fn = MultiViewClipLoss(cfg["loss"]["local_loss"], cfg["loss"]["gather_with_grad"], info.rank,
                                info.world_size)
    transform = tf_train if cfg["data"]["augment"] else tf_eval
    loader = _loader(cfg, out, info, tokenizer, transform, start, stop)
    metrics = MetricsLog(out, start if resume else None) if info.is_main else None
    grad_clip = cfg["optim"]["grad_clip"]
    params = [p for p in clip.parameters() if p.requires_grad]
    global_batch = int(cfg["schedule"]["batch_size"])

    # progress: a bar on a terminal; a plain line every `log.every` steps otherwise (log files, CI)
    progress = info.is_main and cfg["log"]["progress"] and stop > start
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=stop - start, initial=0, desc=cfg["name"], unit="step", dynamic_ncols=True, leave=False)
    t_start = time.perf_counter()
    t_last = t_start
    step = start
    samples_per_s = float("nan")
    last_loss = float("nan")
    for step, (images, tokens) in enumerate(loader, start=start):
        lr = schedule(step)
        images = images.to(device, non_blocking=True)
        tokens = [t.to(device, non_blocking=True) for t in tokens]
        with _autocast(precision, device):
            image_features, text_features, scale = module(images, tokens)
            loss, per_view = loss_fn(image_features.float(), [t.float() for t in text_features], scale.float())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, grad_clip if grad_clip else math.inf)
        optimizer.step()
        clamp_logit_scale(clip, float(cfg["loss"]["max_logit_scale"]))
        if not torch.isfinite(loss):
            raise RuntimeError(f"step {step}: the loss is {loss.item()}; stopping (lower optim.lr?)")

        loss_all = distributed.mean_across_ranks(loss, info).item()
        views_all = [distributed.mean_across_ranks(v, info).item() for v in per_view]
        now = time.perf_counter()
        samples_per_s = global_batch / max(now - t_last, 1e-9)
        t_last = now
        last_loss = loss_all
        done = step + 1
        if metrics is not None:
            metrics.write({"step": step, "loss": loss_all, "view_losses": views_all, "lr": lr,
                           "logit_scale": float(clip.logit_scale.exp().item()), "grad_norm": float(grad_norm),
                           "samples_per_s": samples_per_s, "elapsed_s": now - t_start})
        if bar is not None:
            bar.update(1)
        if progress and (done % int(cfg["log"]["every"]) == 0 or done == stop):
            if bar is not None:
                bar.set_postfix(loss=f"{loss_all:.3f}", lr=f"{lr:.2e}", samples_s=f"{samples_per_s:.0f}")
            else:
                log(f"{cfg['name']}: step {done}/{stop} loss {loss_all:.3f} lr {lr:.2e} {samples_per_s:.0f} samples/s")
        if done % int(cfg["log"]["checkpoint_every"]) == 0 or done == stop:
            _checkpoint(clip, optimizer, done, out, config_json, cfg, info)
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - t_start
    steps_run = max(0, stop - start)
    summary = {"name": cfg["name"], "run_dir": str(out), "steps_done": stop, "steps_total": total,
               "steps_this_call": steps_run, "world_size": info.world_size, "device": device,
               "precision": precision, "global_batch": global_batch, "wall_s": wall,
               "samples_per_s": steps_run * global_batch / wall if wall > 0 and steps_run else None,
               "final_loss": last_loss}
    if info.is_main:
        metrics.close()
        plot_loss(out, cfg["name"])
        (out / SUMMARY).write_text(json.dumps(summary, indent=1))
        log(f"{cfg['name']}: {steps_run} steps in {wall:.1f} s "
            f"({summary['samples_per_s'] or 0:.0f} samples/s), loss {last_loss:.4f}; run folder {out}")
    return summary


def _checkpoint(clip, optimizer, done, out, config_json, cfg, info) -> None:
    digests = distributed.gather_digests(clip, info)
    if len(set(digests)) != 1:
        raise RuntimeError(f"step {done}: the ranks' weights differ ({digests}); DDP lost sync")
    if info.is_main:
        checkpoint.save(out, clip.state_dict(), {"optimizer": optimizer.state_dict(), "rank_digests": digests},
                        done, config_json, int(cfg["log"]["keep_checkpoints"]))
        with (out / "sync.jsonl").open("a") as f:
            f.write(json.dumps({"step": done, "world_size": info.world_size, "digests": digests}) + "\n")
    distributed.barrier(info)
