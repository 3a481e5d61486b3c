"""Write a miniature copy of one LLaVA-Video-178K subset, laid out as the release is.

Usage: ``python mini_llava_video_178k.py DIR``. Writes ``DIR/LLaVA-Video-178K/0_30_s_academic_v0_1/``
with the subset's three annotation files (caption, open-ended, multiple-choice) and its videos packed
as ``0_30_s_academic_v0_1_videos_1.tar.gz``. The videos are generated (moving coloured shapes from
`videolmm.data.TemporalBenchmark`), the text is short and generic; the file names, the record fields and the
relative ``video`` paths follow the release. One record names a video that is not in the tarball, as
happens when only some of a subset's tarballs are downloaded.
"""

import io
import json
import sys
import tarfile
from pathlib import Path

from videolmm.data import TemporalBenchmark

SUBSET = "0_30_s_academic_v0_1"
VIDEOS = ["academic_source/Charades/0A8CF.mp4", "academic_source/Charades/1B2ZR.mp4",
          "academic_source/activitynet/v_k3Q1nVbI9zA.mp4"]  # fmt: skip
MISSING = "academic_source/activitynet/v_not_downloaded.mp4"


def conversation(*turns: str) -> list[dict[str, str]]:
    """Alternating human / gpt turns; the first carries the video placeholder as in the release."""
    roles = ["human", "gpt"] * len(turns)
    return [{"from": role, "value": text} for role, text in zip(roles, turns, strict=False)]


def records(kind: str) -> list[dict]:
    """The annotation records of one file: ``kind`` is ``cap``, ``oe`` or ``mc``."""
    prompts = {
        "cap": ("<image>\nDescribe the video in detail.", "Coloured shapes move over a plain background."),
        "oe": ("<image>\nWhat moves in the video?", "Coloured shapes."),
        "mc": ("<image>\nWhat is in the video?\nA. a dog\nB. coloured shapes\nC. a car\nD. nothing\n"
               "Answer with the option's letter from the given choices directly.", "B."),
    }  # fmt: skip
    out = []
    for i, video in enumerate([*VIDEOS, MISSING] if kind == "oe" else VIDEOS):
        turns = prompts[kind]
        if kind == "oe" and i == 0:  # open-ended records may hold several questions about one video
            turns = (*turns, "Is the background plain?", "Yes.")
        out.append({"id": f"{Path(video).stem}-{kind}-{i}", "conversations": conversation(*turns),
                    "data_source": SUBSET, "video": video})  # fmt: skip
    return out


def write_subset(root: Path) -> Path:
    """Write the subset folder under ``root`` and return it."""
    folder = root / "LLaVA-Video-178K" / SUBSET
    folder.mkdir(parents=True, exist_ok=True)
    names = {"cap": f"{SUBSET}_cap_processed.json", "oe": "0_30_s_academic_oe_v0_1_qa_processed.json",
             "mc": "0_30_s_academic_mc_v0_1_qa_processed.json"}  # fmt: skip
    for kind, name in names.items():
        (folder / name).write_text(json.dumps(records(kind), indent=1))
    benchmark = TemporalBenchmark(size=64, num_frames=16, fps=8.0)
    with tarfile.open(folder / f"{SUBSET}_videos_1.tar.gz", "w:gz") as archive:
        for i, video in enumerate(VIDEOS):
            data = benchmark.sample("train", i).video  # a real H.264 mp4, 2 s
            member = tarfile.TarInfo(video)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return folder


if __name__ == "__main__":
    print(write_subset(Path(sys.argv[1])))
