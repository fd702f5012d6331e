from llmnotes.figures import PALETTE, new_figure, svg_bytes
from llmnotes.pipeline.metrics import save_svg


def draw():
    fig, ax = new_figure()
    ax.plot([0, 1, 2], [2, 1, 3], label="a")
    ax.legend()
    return fig


def test_svg_is_deterministic():
    assert svg_bytes(draw()) == svg_bytes(draw())


def test_svg_has_no_date_and_a_transparent_background():
    svg = svg_bytes(draw()).decode()
    assert "<dc:date>" not in svg
    assert PALETTE[0].lower() in svg.lower()
    assert 'style="fill: #ffffff"' not in svg


def test_save_svg_writes_atomically(tmp_path):
    path = tmp_path / "figures" / "x.svg"
    save_svg(draw(), path)
    assert path.read_bytes().startswith(b"<?xml")
    assert [p.name for p in path.parent.iterdir()] == ["x.svg"]
