"""Start-up hook of every fleet image, imported at every interpreter start by ``fleet-env.pth``
in the venv's site-packages (Debian's python3 already has a ``sitecustomize``, which would shadow
one in the venv). It runs before any import of torch or the model hubs, whatever starts the process.

- The fleet's hardware profiles name the CUDA allocator setting TORCH_CUDA_ALLOC_CONF (the plan's
  name), but torch reads PYTORCH_CUDA_ALLOC_CONF; a PYTORCH_CUDA_ALLOC_CONF set explicitly wins.
- Downloaded weights and hub caches go to the /data volume (the root filesystem is read-only), and
  the hubs' telemetry is off, unless the environment says otherwise.

GPU_VISIBLE_DEVICES is deliberately not mapped to CUDA_VISIBLE_DEVICES: it selects host GPUs for
the container's device request, and inside the container those GPUs are renumbered from 0.
"""
import os

_conf = os.environ.get("TORCH_CUDA_ALLOC_CONF", "")
if _conf and not os.environ.get("PYTORCH_CUDA_ALLOC_CONF"):
    os.environ["PYTORCH_CUDA_ALLOC_CONF"] = _conf
del _conf
for _key, _value in (
    ("TORCH_HOME", "/data/torch"),
    ("HF_HOME", "/data/huggingface"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("TOKENIZERS_PARALLELISM", "false"),
):
    os.environ.setdefault(_key, _value)
del _key, _value
