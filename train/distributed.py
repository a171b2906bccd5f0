"""Process group set-up (torchrun / env://, via open_clip's helper) and rank-sync checks."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist

from lipeval.models.weights import weights_fingerprint


@dataclass(frozen=True)
class DistInfo:
    device: str
    rank: int
    local_rank: int
    world_size: int
    distributed: bool

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init(device: str = "auto") -> DistInfo:
    """Join the process group when launched by torchrun (nccl on CUDA, gloo on CPU)."""
    from open_clip_train.distributed import init_distributed_device_so

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dist.is_available() and dist.is_initialized():  # already joined (e.g. by a test harness)
        rank, world = dist.get_rank(), dist.get_world_size()
        dev = f"cuda:{rank % torch.cuda.device_count()}" if device.startswith("cuda") else "cpu"
        return DistInfo(dev, rank, rank, world, world > 1)
    r = init_distributed_device_so(device=device)
    return DistInfo(str(r["device"]), r["global_rank"], r["local_rank"], r["world_size"], r["distributed"])


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def mean_across_ranks(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if not info.distributed:
        return value
    v = value.detach().clone().float()
    dist.all_reduce(v)
    return v / info.world_size


def gather_digests(model: torch.nn.Module, info: DistInfo) -> list[str]:
    """Every rank's weights fingerprint (on every rank): equal digests mean identical replicas."""
    digest = weights_fingerprint(model)
    if not info.distributed:
        return [digest]
    out: list = [None] * info.world_size
    dist.all_gather_object(out, digest)
    return out


def shutdown(info: DistInfo) -> None:
    if info.distributed and dist.is_initialized():
        dist.destroy_process_group()
