"""Scenes of the synthetic benchmark: coloured shapes with a track and a visibility per frame, rendered.

Coordinates are the top-left corner of an object's ``side x side`` box, in pixels, per frame.
"""

from dataclasses import dataclass

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40),
    "green": (40, 200, 70),
    "blue": (50, 90, 240),
    "yellow": (240, 220, 40),
    "magenta": (220, 60, 220),
    "cyan": (40, 210, 220),
}
"""Object colours, far apart in RGB so that 4:2:0 compression keeps them apart."""

SHAPES: tuple[str, ...] = ("square", "circle", "triangle", "cross")
"""Object shapes."""

BACKGROUND = (40, 40, 40)


def shape_mask(shape: str, side: int) -> np.ndarray:
    """A ``side x side`` boolean mask of ``shape``."""
    y, x = np.mgrid[0:side, 0:side] + 0.5
    c = side / 2
    if shape == "square":
        return np.ones((side, side), dtype=bool)
    if shape == "circle":
        return (x - c) ** 2 + (y - c) ** 2 <= c**2
    if shape == "triangle":  # apex at the top, base at the bottom
        return np.abs(x - c) <= y / 2
    if shape == "cross":
        arm = side / 6
        return (np.abs(x - c) <= arm) | (np.abs(y - c) <= arm)
    raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene.

    Attributes:
        colour: A key of `COLOURS`.
        shape: One of `SHAPES`.
        track: (T, 2) float top-left (x, y) per frame.
        visible: (T,) bool.
    """

    colour: str
    shape: str
    track: np.ndarray
    visible: np.ndarray

    @property
    def name(self) -> str:
        """``"red square"``."""
        return f"{self.colour} {self.shape}"


def static(x: float, y: float, num_frames: int) -> np.ndarray:
    """A track that stays at (x, y): (T, 2)."""
    return np.tile(np.array([[x, y]], dtype=float), (num_frames, 1))


def background(size: int, texture: float, rng: np.random.Generator) -> np.ndarray:
    """A (H, W, 3) float background: plain grey, plus a static blocky texture of amplitude ``texture``."""
    plain = np.broadcast_to(np.array(BACKGROUND, dtype=np.float32), (size, size, 3)).copy()
    if texture <= 0:
        return plain
    blocks = rng.uniform(-1, 1, (max(1, size // 4), max(1, size // 4), 1)).astype(np.float32)
    pattern = np.kron(blocks, np.ones((4, 4, 1), dtype=np.float32))[:size, :size]  # (h/4, w/4, 1) -> (H, W, 1)
    return plain + 60.0 * texture * pattern


def render(
    objects: list[SceneObject], size: int, side: int, texture: float, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Draw a scene: objects in list order (later ones on top).

    Returns:
        (T, H, W, 3) uint8 RGB frames.
    """
    num_frames = objects[0].track.shape[0]
    base = background(size, texture, rng)
    frames = np.repeat(base[None], num_frames, axis=0)  # (H, W, 3) -> (T, H, W, 3)
    masks = {shape: shape_mask(shape, side) for shape in {o.shape for o in objects}}
    for obj in objects:
        mask, colour = masks[obj.shape], np.array(COLOURS[obj.colour], dtype=np.float32)
        for t in np.flatnonzero(obj.visible):
            x, y = (round(float(v)) for v in obj.track[t])
            x, y = min(max(x, 0), size - side), min(max(y, 0), size - side)
            frames[t, y : y + side, x : x + side][mask] = colour
    if noise > 0:
        frames += rng.normal(0.0, 255.0 * noise, frames.shape).astype(np.float32)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)
