"""Settings read once from the environment, which is where the fleet puts the hardware profile.

Images are machine-agnostic: the same image runs on mainpc and pc2, and only the environment
differs. Invalid values stop the service at start-up with a message naming the variable.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

# The hardware-profile variables, reported verbatim at GET /info so that a test (or a person)
# can see which profile a container received.
PROFILE_KEYS = (
    "GPU_VISIBLE_DEVICES",
    "TORCH_CUDA_ALLOC_CONF",
    "OMP_NUM_THREADS",
    "UVICORN_WORKERS",
    "MODEL_EVICT_THRESHOLD_PCT",
)


class SettingsError(ValueError):
    """A variable is present but unusable; the message says which and what is allowed."""


def _whole_number(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = env.get(key, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a whole number from {low} to {high}; got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{key} must be a whole number from {low} to {high}; got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    service_name: str
    service_port: int
    health_port: int
    workers: int
    evict_threshold_pct: int
    inputs: str
    profile: Mapping[str, str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            service_name=env.get("SERVICE_NAME", "reference-service"),
            # Ports 1024 and up: the process is not root and holds no capabilities.
            service_port=_whole_number(env, "SERVICE_PORT", 8000, 1024, 65535),
            health_port=_whole_number(env, "HEALTH_PORT", 8001, 1024, 65535),
            workers=_whole_number(env, "UVICORN_WORKERS", 1, 1, 256),
            evict_threshold_pct=_whole_number(env, "MODEL_EVICT_THRESHOLD_PCT", 90, 1, 100),
            inputs=env.get("FLEET_INPUTS", "unknown"),
            profile={key: env[key] for key in PROFILE_KEYS if key in env},
        )
