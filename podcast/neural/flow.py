"""Flow-matching helpers: time grids and the Euler ODE solver.

Flow-matching decoders (ZipVoice, CosyVoice, Matcha) integrate a learned velocity field from
noise at ``t = 0`` to data at ``t = 1``. The engines differ in the time grid and in how they
build the velocity (classifier-free guidance, conditioning), not in the integration loop, which
lives here once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import torch

__all__ = ["euler_solve", "time_grid"]


def time_grid(
    n_steps: int,
    *,
    schedule: Literal["linear", "cosine"] = "linear",
    t_start: float = 0.0,
    t_end: float = 1.0,
    shift: float = 1.0,
    device: Any = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n_steps + 1`` time points from ``t_start`` to ``t_end``.

    ``linear``: evenly spaced. ``cosine``: ``1 - cos(t * pi / 2)`` of the even grid (Matcha and
    CosyVoice), denser near ``t = 0``. ``shift`` (after the schedule): ``s * t / (1 + (s - 1) * t)``
    (ZipVoice's time shift; ``s < 1`` spends more steps near the noise end).
    """
    if n_steps < 1:
        raise ValueError(f"a flow solver needs at least one step, not {n_steps}")
    t = torch.linspace(t_start, t_end, n_steps + 1, device=device, dtype=dtype)
    if schedule == "cosine":
        t = 1 - torch.cos(t * 0.5 * math.pi)
    elif schedule != "linear":
        raise ValueError(f"unknown time schedule {schedule!r} (linear, cosine)")
    if shift != 1.0:
        t = shift * t / (1 + (shift - 1) * t)
    return t


Velocity = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def euler_solve(
    velocity: Velocity,
    x0: torch.Tensor,
    timesteps: torch.Tensor,
    *,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Integrate ``dx/dt = velocity(x, t, k)`` with explicit Euler steps over ``timesteps``.

    Step ``k`` goes from ``timesteps[k]`` to ``timesteps[k + 1]``:
    ``x_{k+1} = x_k + (t_{k+1} - t_k) * velocity(x_k, t_k, k)``. ``on_step(k, x_{k+1})`` is called
    after every step (to record intermediates or report progress). Returns the last state.
    """
    x = x0
    for k in range(timesteps.shape[0] - 1):
        t, dt = timesteps[k], timesteps[k + 1] - timesteps[k]
        x = x + dt * velocity(x, t, k)
        if on_step is not None:
            on_step(k, x)
    return x
