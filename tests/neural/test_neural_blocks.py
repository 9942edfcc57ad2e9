"""podcast.neural: Vocos, the flow solver and the checkpoint helpers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from podcast.errors import MissingModelError  # noqa: E402
from podcast.neural.checkpoint import (  # noqa: E402
    load_strict,
    manifest,
    manifest_differences,
    read_state_dict,
    weight_norm_keys,
)
from podcast.neural.flow import euler_solve, time_grid  # noqa: E402
from podcast.neural.vocos import Vocos, VocosConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_time_grids() -> None:
    lin = time_grid(4)
    assert torch.allclose(lin, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    cos = time_grid(4, schedule="cosine")
    assert cos[0] == 0 and torch.isclose(cos[-1], torch.tensor(1.0))
    assert (torch.diff(cos) > 0).all() and cos[1] < lin[1]  # denser near the noise end
    shifted = time_grid(4, shift=0.5)
    assert torch.isclose(shifted[2], torch.tensor(0.5 * 0.5 / (1 - 0.5 * 0.5)))
    with pytest.raises(ValueError):
        time_grid(0)
    with pytest.raises(ValueError):
        time_grid(3, schedule="quadratic")  # type: ignore[arg-type]


def test_euler_solver_steps_and_accuracy() -> None:
    seen: list[int] = []
    out = euler_solve(lambda x, t, k: torch.ones_like(x) * 2, torch.zeros(3), time_grid(5), on_step=lambda k, x: seen.append(k))
    assert seen == [0, 1, 2, 3, 4] and torch.allclose(out, torch.full((3,), 2.0))
    # dx/dt = x from 1: Euler converges to e with the step count.
    coarse = euler_solve(lambda x, t, k: x, torch.ones(1), time_grid(10))
    fine = euler_solve(lambda x, t, k: x, torch.ones(1), time_grid(1000))
    assert abs(float(fine) - np.e) < abs(float(coarse) - np.e) < 0.2
    # The velocity sees the time of the start of its step.
    times: list[float] = []
    euler_solve(lambda x, t, k: times.append(float(t)) or x, torch.ones(1), time_grid(2, schedule="cosine"))
    assert times == pytest.approx([0.0, 1 - np.cos(np.pi / 4)])


def _weight_normed(legacy: bool) -> torch.nn.Module:
    conv = torch.nn.Conv1d(3, 4, 5)
    if legacy:
        return torch.nn.utils.weight_norm(conv)
    return torch.nn.utils.parametrizations.weight_norm(conv)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_weight_norm_spellings_convert_both_ways() -> None:
    legacy, modern = _weight_normed(True), _weight_normed(False)
    as_modern = weight_norm_keys(legacy.state_dict(), "parametrizations")
    assert set(as_modern) == set(modern.state_dict())
    load_strict(modern, as_modern, what="legacy conv")
    assert torch.equal(modern.weight, legacy.weight)
    back = weight_norm_keys(modern.state_dict(), "legacy")
    assert set(back) == set(legacy.state_dict())


def test_strict_loading_names_the_problem() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    state = dict(model.state_dict())
    state["9.weight"] = torch.zeros(1)
    del state["1.bias"]
    state["0.weight"] = torch.zeros(5, 5)
    with pytest.raises(MissingModelError) as err:
        load_strict(model, state, what="tiny checkpoint")
    message = str(err.value)
    assert "tiny checkpoint" in message and "\n" not in message
    assert "missing 1.bias" in message and "unexpected 9.weight" in message and "0.weight" in message


def test_manifest_on_meta_device() -> None:
    with torch.device("meta"):
        model = Vocos(VocosConfig(num_layers=2, dim=16, intermediate_dim=32))
    shapes = manifest(model)
    assert shapes["head.out.weight"] == [1026, 16]
    assert shapes["backbone.convnext.1.gamma"] == [16]
    assert manifest_differences(model, shapes) == []
    assert manifest_differences(model, {**shapes, "x": [1]}) == ["unexpected x"]


def test_read_state_dict_formats_and_errors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    state = {"a": torch.arange(4.0)}
    save_file(state, tmp_path / "w.safetensors")
    torch.save(state, tmp_path / "w.pt")
    assert torch.equal(read_state_dict(tmp_path / "w.safetensors")["a"], state["a"])
    assert torch.equal(read_state_dict(tmp_path / "w.pt")["a"], state["a"])
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(MissingModelError, match="cannot read weight file"):
        read_state_dict(tmp_path / "bad.pt")
    with pytest.raises(MissingModelError, match="does not exist"):
        read_state_dict(tmp_path / "absent.safetensors")


@pytest.mark.parametrize("padding", ["same", "center"])
def test_vocos_lengths_and_dtype(padding: str) -> None:
    torch.manual_seed(0)
    voc = Vocos(VocosConfig(input_channels=8, dim=16, intermediate_dim=32, num_layers=2, n_fft=64, hop_length=16, padding=padding))
    wav = voc(torch.randn(2, 8, 10))
    assert wav.dtype == torch.float32
    expected = 10 * 16 if padding == "same" else (10 - 1) * 16
    assert wav.shape == (2, expected)


@pytest.mark.parity
def test_vocos_loads_the_vocos_package_checkpoint_strictly() -> None:
    folder = Path(os.environ.get("ZIPVOICE_FIXTURES") or ROOT.parent / "shared" / "fixtures" / "zipvoice_dialog")
    weights = folder / "model" / "vocos" / "pytorch_model.bin"
    if not weights.is_file():
        pytest.skip(f"{weights} is absent (set ZIPVOICE_FIXTURES to a fixture folder)")
    state = {k: v for k, v in read_state_dict(weights).items() if not k.startswith("feature_extractor.")}
    dim, channels = state["backbone.embed.weight"].shape[:2]
    layers = len({k.split(".")[2] for k in state if k.startswith("backbone.convnext.")})
    cfg = VocosConfig(channels, dim, state["backbone.convnext.0.pwconv1.weight"].shape[0], layers, 1024, 256, "same")
    with torch.device("meta"):
        voc = Vocos(cfg)
    load_strict(voc, state, what=str(weights))
    arrays = np.load(folder / "cases" / "en_split" / "arrays.npz")
    pred = torch.from_numpy(arrays["b0_pred_features"][0]).T[None] / 0.1
    with torch.no_grad():
        wav = voc(pred)[0]
    ref = arrays["vocoder_out0"][0]
    np.testing.assert_allclose(wav[: ref.shape[0]].numpy(), ref, atol=1e-4, rtol=0)
