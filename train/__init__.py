"""lipeval's companion trainer (CLIP, LiT, LoTLIP), installed as `lipeval.train`.

    lipeval train --config train/configs/demo_lotlip.yaml --out runs/lotlip
    torchrun --nproc_per_node 8 -m lipeval.train --config ...

Modules: config (YAML + overrides), data (records, text views, sampler), wds (webdataset
shards), model (open_clip factory, corner tokens, LiT lock), loss (multi-view ClipLoss),
optim (AdamW groups, cosine schedule), checkpoint (atomic safetensors + state), metrics
(JSONL log, loss curve), distributed (process group, sync checks), trainer (the loop).
"""
