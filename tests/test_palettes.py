import re

from llmnotes.figures import PALETTE, new_figure, svg_bytes
from llmnotes.pipeline.palettes import dark_colour, dark_svg

HEX = re.compile(r"#[0-9a-f]{6}")


def test_ink_mirrors_its_lightness_and_data_colours_are_kept():
    for colour in PALETTE[:-1]:  # the Okabe-Ito hues; the last, black, is ink
        assert dark_colour(colour, text=False) == colour.lower()
    assert dark_colour("#000000", text=False) == "#f2f2f2"
    assert dark_colour("#ffffff", text=False) == "#262626"  # a white box becomes a dark one
    assert dark_colour("#ffffff", text=True) == "#ffffff"  # white text sits on a dark cell
    pale = dark_colour("#cfe3f3", text=False)  # a pale blue box stays blue, now dark
    assert int(pale[5:7], 16) > int(pale[1:3], 16) and int(pale[1:3], 16) < 0x60


def test_a_dark_figure_keeps_its_data_and_its_image_and_loses_every_light_ink():
    import numpy as np

    fig, (lines, cells) = new_figure(1, 2)
    for i, colour in enumerate(PALETTE[:3]):
        lines.plot([0, 1], [i, i + 1], color=colour, label=f"s{i}")
    lines.legend()
    fig.colorbar(cells.imshow(np.arange(4.0).reshape(2, 2), cmap="viridis"), ax=cells)
    light = svg_bytes(fig).decode()
    dark = dark_svg(light.encode()).decode()
    assert set(HEX.findall(light)) >= {c.lower() for c in PALETTE[:3]} | {"#222222", "#333333"}
    assert {c.lower() for c in PALETTE[:3]} <= set(HEX.findall(dark))
    assert not {"#222222", "#333333", "#bbbbbb"} & set(HEX.findall(dark))
    embedded = re.compile(r'xlink:href="data:image/png;base64,[^"]+"')
    assert embedded.findall(dark) == embedded.findall(light)  # viridis cells, byte for byte
    assert dark.count("<text") == light.count("<text")
