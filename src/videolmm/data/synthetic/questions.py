"""Question kinds of the synthetic benchmark: each builds a scene and the question it answers.

Temporal kinds need the order of frames; averaged over time their videos look alike whatever the
answer (equal exposure times, symmetric streaks):

* ``direction``: one object moves left, right, up or down (averaged: a streak that shows the axis
  but not the sense, so at best half right).
* ``speed``: two objects go back and forth over the same span from random phases, one 1.75 times
  as often (both streaks cover the span; no single frame tells which is which).
* ``order``: two or three objects each visible for the same number of frames, one after another.
* ``count``: an object blinks 1 to 4 times, always visible for half of the frames in total.
* ``when``: an object is visible for a third of the video: at the beginning, middle or end.

Control kinds are answered by any single frame (static objects): ``colour``, ``shape``,
``position`` (quadrant in the first frame). Each kind maps to a LLaVA-Video-178K question type.

Measured with a linear probe on rendered 32x32x8 clips (800-1,500 training, 300-400 test scenes per kind):
time-averaged frames answer direction 33-37 % (chance 27 %), speed 54 % (56 %), order 39 % (43 %),
count 28 % (27 %), when 36 % (35 %); all frames: direction 100 %, when 100 %, count 58 %. A single
frame still carries priors (a rightward move starts further left; a "beginning" object is in
frame 0): first-frame probes reach 72-75 % on direction and 68 % on when.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from videolmm.data.synthetic.scene import COLOURS, SHAPES, SceneObject, static

DIRECTIONS = ("left", "right", "up", "down")
QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
WHEN = ("beginning", "middle", "end")
COUNTS = ("1", "2", "3", "4")


@dataclass(frozen=True)
class Geometry:
    """Frame geometry shared by all kinds.

    Attributes:
        size: Frame side in pixels.
        side: Object side in pixels.
        num_frames: Frames per video (T).
        difficulty: 0 (easy) to 1: distractors, shorter motions.
    """

    size: int
    side: int
    num_frames: int
    difficulty: float

    @property
    def span(self) -> int:
        """Free travel of an object's corner along one axis."""
        return self.size - self.side


@dataclass(frozen=True)
class Question:
    """A scene and the question about it.

    Attributes:
        objects: Everything drawn (targets first, then distractors).
        text: The question.
        options: The candidate answers (multiple-choice options, in canonical order).
        answer: The correct option.
        kind: The question kind.
    """

    objects: list[SceneObject]
    text: str
    options: tuple[str, ...]
    answer: str
    kind: str


def _pick_objects(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    """``count`` (colour, shape) pairs with distinct colours and distinct shapes."""
    colours = rng.choice(list(COLOURS), size=count, replace=False)
    shapes = rng.choice(SHAPES, size=count, replace=False)
    return [(str(c), str(s)) for c, s in zip(colours, shapes, strict=True)]


def _box(track: np.ndarray, side: int) -> tuple[float, float, float, float]:
    return track[:, 0].min(), track[:, 1].min(), track[:, 0].max() + side, track[:, 1].max() + side


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _free_spot(rng: np.random.Generator, g: Geometry, taken: list[tuple]) -> tuple[float, float] | None:
    """A top-left corner whose box overlaps none of ``taken`` (50 tries)."""
    for _ in range(50):
        x, y = rng.uniform(0, g.span, size=2)
        if not any(_overlaps((x, y, x + g.side, y + g.side), box) for box in taken):
            return float(x), float(y)
    return None


def add_distractors(rng: np.random.Generator, g: Geometry, targets: list[SceneObject]) -> list[SceneObject]:
    """Static, always visible objects sharing neither colour nor shape with the targets."""
    colours = [c for c in COLOURS if c not in {t.colour for t in targets}]
    shapes = [s for s in SHAPES if s not in {t.shape for t in targets}]
    taken = [_box(t.track, g.side) for t in targets]
    objects = list(targets)
    for _ in range(round(2 * g.difficulty)):
        spot = _free_spot(rng, g, taken)
        if spot is None or not colours or not shapes:
            break
        colour, shape = str(rng.choice(colours)), str(rng.choice(shapes))
        track = static(*spot, g.num_frames)
        objects.insert(0, SceneObject(colour, shape, track, np.ones(g.num_frames, dtype=bool)))  # drawn below
        taken.append(_box(track, g.side))
    return objects


def _always(g: Geometry) -> np.ndarray:
    return np.ones(g.num_frames, dtype=bool)


def direction(rng: np.random.Generator, g: Geometry) -> Question:
    """One object moves in a straight line; the segment it covers does not depend on the direction."""
    (colour, shape), word = _pick_objects(rng, 1)[0], str(rng.choice(DIRECTIONS))
    length = rng.uniform(0.6 - 0.3 * g.difficulty, 1.0) * g.span
    low = rng.uniform(0, g.span - length)
    start, end = (low, low + length) if word in ("right", "down") else (low + length, low)
    along, across = np.linspace(start, end, g.num_frames), np.full(g.num_frames, rng.uniform(0, g.span))
    track = np.stack([along, across] if word in ("left", "right") else [across, along], axis=1)
    target = SceneObject(colour, shape, track, _always(g))
    return Question(
        add_distractors(rng, g, [target]),
        f"In which direction does the {target.name} move?",
        DIRECTIONS,
        word,
        "direction",
    )


def speed(rng: np.random.Generator, g: Geometry) -> Question:
    """Two objects go back and forth over the span from random phases: 1 cycle, and 1.75 (1.5 when hard).

    Not 2 cycles: at 8 frames that samples the fast wave 4 times per cycle, and some phases then
    shorten its streak and its path below the slow one's. With 1.75 the fast path is 1.3x to 2x
    longer (median 1.5x) and both streaks cover the same extent on average.
    """
    pairs, fast = _pick_objects(rng, 2), int(rng.integers(2))
    t = np.arange(g.num_frames) / g.num_frames
    objects = []
    for i, (colour, shape) in enumerate(pairs):
        cycles = 1.75 - 0.25 * g.difficulty if i == fast else 1.0
        u = cycles * t + rng.uniform(0, 1)  # a triangle wave from a random phase
        x = (1 - np.abs(2 * np.mod(u, 1.0) - 1)) * g.span
        row = rng.uniform(0, max(0.0, g.size / 2 - g.side)) + (g.size / 2 if i else 0)
        track = np.stack([x, np.full(g.num_frames, min(row, g.span))], axis=1)
        objects.append(SceneObject(colour, shape, track, _always(g)))
    names = tuple(f"the {o.name}" for o in objects)
    return Question(add_distractors(rng, g, objects), "Which object moves faster?", names, names[fast], "speed")


def order(rng: np.random.Generator, g: Geometry) -> Question:
    """Two or three static objects, each visible for the same number of frames, one after another."""
    count = int(rng.integers(2, 4)) if g.num_frames >= 6 else 2
    window, slots = g.num_frames // count, rng.permutation(count)
    objects: list[SceneObject] = []
    taken: list[tuple[float, float, float, float]] = []
    for (colour, shape), slot in zip(_pick_objects(rng, count), slots, strict=True):
        spot = _free_spot(rng, g, taken) or (float(rng.uniform(0, g.span)), float(rng.uniform(0, g.span)))
        track = static(*spot, g.num_frames)
        visible = np.zeros(g.num_frames, dtype=bool)
        visible[slot * window : (slot + 1) * window] = True
        objects.append(SceneObject(colour, shape, track, visible))
        taken.append((spot[0], spot[1], spot[0] + g.side, spot[1] + g.side))
    last = bool(rng.integers(2))
    answer = objects[int(np.argmax(slots) if last else np.argmin(slots))]
    names = tuple(f"the {o.name}" for o in objects)
    text = f"Which object appears {'last' if last else 'first'}?"
    return Question(add_distractors(rng, g, objects), text, names, f"the {answer.name}", "order")


def blink_pattern(rng: np.random.Generator, num_frames: int, times: int) -> np.ndarray:
    """(T,) bool: ``times`` separate bursts covering ``T // 2`` frames in total."""
    visible_frames = num_frames // 2
    cuts = np.sort(rng.choice(np.arange(1, visible_frames), size=times - 1, replace=False))
    bursts = np.diff(np.concatenate([[0], cuts, [visible_frames]]))
    slack = rng.multinomial(num_frames - visible_frames - (times - 1), np.full(times + 1, 1 / (times + 1)))
    gaps = slack + np.concatenate([[0], np.ones(times - 1, dtype=int), [0]])
    pattern = []
    for i, burst in enumerate(bursts):
        pattern += [False] * int(gaps[i]) + [True] * int(burst)
    return np.array(pattern + [False] * int(gaps[-1]), dtype=bool)


def count(rng: np.random.Generator, g: Geometry) -> Question:
    """A static object blinks; it is on for half of the frames whatever the count."""
    most = min(len(COUNTS), g.num_frames // 2, (g.num_frames + 1) // 2)
    times = int(rng.integers(1, most + 1))
    (colour, shape) = _pick_objects(rng, 1)[0]
    x, y = rng.uniform(0, g.span, size=2)
    track = static(x, y, g.num_frames)
    target = SceneObject(colour, shape, track, blink_pattern(rng, g.num_frames, times))
    return Question(
        add_distractors(rng, g, [target]),
        f"How many times does the {target.name} appear?",
        COUNTS,
        COUNTS[times - 1],
        "count",
    )


def when(rng: np.random.Generator, g: Geometry) -> Question:
    """A static object visible for a third of the video, in its first, middle or last third."""
    third, window = int(rng.integers(3)), max(1, g.num_frames // 3)
    start = (0, (g.num_frames - window) // 2, g.num_frames - window)[third]
    visible = np.zeros(g.num_frames, dtype=bool)
    visible[start : start + window] = True
    (colour, shape) = _pick_objects(rng, 1)[0]
    x, y = rng.uniform(0, g.span, size=2)
    target = SceneObject(colour, shape, static(x, y, g.num_frames), visible)
    return Question(
        add_distractors(rng, g, [target]), f"When does the {target.name} appear?", WHEN, WHEN[third], "when"
    )


def colour(rng: np.random.Generator, g: Geometry) -> Question:
    """Control: the colour of the only object of its shape."""
    (name, shape) = _pick_objects(rng, 1)[0]
    x, y = rng.uniform(0, g.span, size=2)
    target = SceneObject(name, shape, static(x, y, g.num_frames), _always(g))
    others = [c for c in COLOURS if c != name]
    options = tuple(sorted([name, *(str(c) for c in rng.choice(others, size=3, replace=False))]))
    return Question(add_distractors(rng, g, [target]), f"What colour is the {shape}?", options, name, "colour")


def shape(rng: np.random.Generator, g: Geometry) -> Question:
    """Control: the shape of the only object of its colour."""
    (name, form) = _pick_objects(rng, 1)[0]
    x, y = rng.uniform(0, g.span, size=2)
    target = SceneObject(name, form, static(x, y, g.num_frames), _always(g))
    return Question(add_distractors(rng, g, [target]), f"What shape is the {name} object?", SHAPES, form, "shape")


def position(rng: np.random.Generator, g: Geometry) -> Question:
    """Control: the quadrant of a static object (its box lies inside the quadrant)."""
    quadrant = int(rng.integers(4))
    room = max(0.0, g.size / 2 - g.side)
    x = rng.uniform(0, room) + (g.size - g.side - room if quadrant % 2 else 0)
    y = rng.uniform(0, room) + (g.size - g.side - room if quadrant >= 2 else 0)
    (name, form) = _pick_objects(rng, 1)[0]
    target = SceneObject(name, form, static(x, y, g.num_frames), _always(g))
    return Question(
        add_distractors(rng, g, [target]),
        f"Where is the {target.name} at the start of the video?",
        QUADRANTS,
        QUADRANTS[quadrant],
        "position",
    )


@dataclass(frozen=True)
class Kind:
    """A question kind: its builder, its LLaVA-Video-178K question type, and whether it needs time."""

    build: Callable[[np.random.Generator, Geometry], Question]
    question_type: str
    temporal: bool


KINDS: dict[str, Kind] = {
    "direction": Kind(direction, "Object Direction", True),
    "speed": Kind(speed, "Speed", True),
    "order": Kind(order, "Time Order Understanding", True),
    "count": Kind(count, "Count", True),
    "when": Kind(when, "Temporal", True),
    "colour": Kind(colour, "Description-Object", False),
    "shape": Kind(shape, "Description-Object", False),
    "position": Kind(position, "Spatial", False),
}
"""Every question kind by name (the benchmark's ``kinds`` knob picks from these)."""
