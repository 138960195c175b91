import numpy as np
import pytest

from app.viewer.render import LutCache, VoiTable, build_lut, render_slice, render_slice_naive
from app.viewer.window_level import WindowLevel, auto_window, default_window, preset


def test_lut_matches_dicom_linear_formula_for_int16():
    wl = WindowLevel(40, 400)
    px = np.array([[-1000, -160, 40, 239, 240, 3000]], dtype=np.int16)
    out = render_slice(px, wl)
    # below c-0.5-(w-1)/2 -> 0, above c-0.5+(w-1)/2 -> 255, centre -> ~mid grey
    assert out[0, 0] == 0 and out[0, 1] == 0
    assert abs(int(out[0, 2]) - 128) <= 1
    assert out[0, 4] == 255 and out[0, 5] == 255
    assert out.dtype == np.uint8 and out.flags.c_contiguous


def test_lut_equals_float_reference_over_range():
    rng = np.random.default_rng(1)
    px = rng.integers(-2000, 3000, size=(64, 64)).astype(np.int16)
    wl = WindowLevel(500, 2000)
    fast = render_slice(px, wl).astype(int)
    c, w = 500.0, 2000.0
    ref = np.clip(((px.astype(float) - (c - 0.5)) / (w - 1) + 0.5) * 255, 0, 255)
    assert np.abs(fast - np.rint(ref)).max() <= 1


def test_uint16_and_invert():
    px = np.array([[0, 1000, 4095]], dtype=np.uint16)
    wl = WindowLevel(2048, 4096)
    a = render_slice(px, wl)
    b = render_slice(px, wl, invert=True)
    assert np.array_equal(a.astype(int) + b.astype(int), np.full((1, 3), 255))
    assert a[0, 0] < a[0, 1] < a[0, 2]


def test_narrower_window_gives_more_contrast():
    rng = np.random.default_rng(2)
    px = (rng.normal(300, 100, size=(128, 128))).astype(np.int16)
    wide = render_slice(px, WindowLevel(300, 2000)).astype(float)
    narrow = render_slice(px, WindowLevel(300, 400)).astype(float)
    assert narrow.std() > 3 * wide.std()


def test_float_images_render_like_integer_ones():
    px = np.array([[-10.0, 50.0, 110.0]], dtype=np.float32)
    out = render_slice(px, WindowLevel(50, 101))
    assert out[0, 0] == 0 and out[0, 2] == 255 and abs(int(out[0, 1]) - 128) <= 1


def test_voi_table_is_applied():
    table = np.linspace(0, 4095, 1000).astype(np.uint16)[::-1]  # a decreasing LUT
    voi = VoiTable(first_mapped=100, bits=12, table=table)
    px = np.array([[0, 100, 600, 1099, 5000]], dtype=np.uint16)
    out = render_slice(px, None, voi=voi)
    assert out[0, 0] == 255 and out[0, 1] == 255  # below first mapped -> first entry
    assert out[0, 3] == 0 and out[0, 4] == 0
    assert 100 < out[0, 2] < 160


def test_lut_cache_reuses_table():
    cache = LutCache()
    a = cache.get(np.int16, WindowLevel(1, 10), False)
    assert cache.get(np.int16, WindowLevel(1, 10), False) is a
    assert cache.get(np.int16, WindowLevel(1, 11), False) is not a


def test_build_lut_rejects_other_dtypes():
    with pytest.raises(TypeError):
        build_lut(np.int32, WindowLevel(0, 10))


def test_naive_peer_agrees_roughly():
    px = np.arange(-1000, 1000, dtype=np.int16).reshape(40, 50)
    wl = WindowLevel(0, 1000)
    assert np.abs(render_slice(px, wl).astype(int) - render_slice_naive(px, wl).astype(int)).max() <= 2


def test_presets_and_auto_window():
    assert preset("ct_bone") == WindowLevel(500, 2000)
    assert preset("ct_soft_tissue") == WindowLevel(40, 400)
    rng = np.random.default_rng(3)
    vol = rng.uniform(100, 1100, size=(40, 50, 50)).astype(np.float32)
    wl = auto_window(vol)
    assert 80 < wl.low < 140 and 1060 < wl.high < 1120
    _wl2, source = default_window("MR", vol)
    assert "auto" in source
    wl3, _source3 = default_window("CT", vol)
    assert wl3 == preset("ct_bone")


def test_drag_direction():
    wl = WindowLevel(100, 400)
    d = wl.dragged(50, 0)
    assert d.width > wl.width and d.center == wl.center
    assert wl.dragged(0, 10).center > wl.center
    assert wl.dragged(-10_000, 0).width >= 1
