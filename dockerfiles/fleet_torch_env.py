"""Start-up hook of the torch families, imported at every interpreter start by
``fleet-torch-env.pth`` in the venv's site-packages (Debian's python3 already has a
``sitecustomize``, which would shadow one in the venv).

The fleet's hardware profiles name the CUDA allocator setting TORCH_CUDA_ALLOC_CONF (the plan's
name), but torch reads PYTORCH_CUDA_ALLOC_CONF. The site module runs this at interpreter start,
before any import of torch, so the profile's value reaches the allocator whatever starts the
process. A PYTORCH_CUDA_ALLOC_CONF set explicitly wins.

GPU_VISIBLE_DEVICES is deliberately not mapped to CUDA_VISIBLE_DEVICES: it selects host GPUs for
the container's device request, and inside the container those GPUs are renumbered from 0.
"""
import os

_conf = os.environ.get("TORCH_CUDA_ALLOC_CONF", "")
if _conf and not os.environ.get("PYTORCH_CUDA_ALLOC_CONF"):
    os.environ["PYTORCH_CUDA_ALLOC_CONF"] = _conf
del _conf
