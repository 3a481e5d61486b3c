"""An lmms-eval model over a `VideoLMM`: ``generate_until``, ``loglikelihood``, ``generate_until_multi_round``.

lmms-eval (optional, installed ``--no-deps``; see the evaluation how-to) finds the model through
the entry point group ``lmms_eval.models`` (`lmms_eval_manifest`, declared in videolmm's
``pyproject.toml``), so ``lmms-eval --model videolmm --model_args pretrained=DIR`` works once both
are installed. In Python, pass a constructed adapter to ``lmms_eval.evaluator.simple_evaluate(model=...)``
to evaluate a model already in memory (e.g. during training).

Requests use lmms-eval's "simple" layout: ``(context, gen_kwargs, doc_to_visual, doc_id, task,
split)`` for generation, ``(context, continuation, doc_to_visual, doc_id, task, split)`` for
log-likelihoods (answered, as lmms-eval's video models answer them, with the mean token loss).
Each document must have exactly one video (a path); the context becomes the user turn, the video
marker is put in front of it, and the reply is cut at the request's ``until`` strings. Without
lmms-eval installed the module still imports (for the docs), with ``object`` as the base class,
but lmms-eval cannot use the class.
"""

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from videolmm.data.records import Turn, normalise_marker
from videolmm.eval.generation import GenerationSettings, ReplyGenerator, cut_at_strings
from videolmm.eval.likelihood import continuation_logprob
from videolmm.eval.prompter import PromptedVideo, VideoPrompter

try:
    from lmms_eval.api.model import lmms as LmmsBase
except ImportError:  # the optional lmms-eval is absent: importable, not registrable
    LmmsBase = object

__all__ = ["MODEL_NAME", "VideoLMMLmms", "lmms_eval_manifest"]

MODEL_NAME = "videolmm"
"""The name lmms-eval knows the adapter by (``--model videolmm``)."""


def lmms_eval_manifest() -> Any:
    """The ``ModelManifest`` lmms-eval loads from videolmm's ``lmms_eval.models`` entry point."""
    from lmms_eval.models.registry_v2 import ModelManifest

    return ModelManifest(model_id=MODEL_NAME, simple_class_path=f"{__name__}.VideoLMMLmms")


class VideoLMMLmms(LmmsBase):  # type: ignore[misc,valid-type]
    """lmms-eval's model interface over a `VideoLMM` (see the module docstring).

    Either give ``pretrained`` (a HF LLaVA directory with its tokenizer; what lmms-eval's command
    line passes) or the built ``model``, ``tokenizer`` and ``prompter``.

    Args:
        pretrained: A HF LlavaOnevision / LlavaNextVideo directory.
        model: A built model (in eval mode).
        tokenizer: Its tokenizer.
        prompter: Decoding, frame sampling and prompt rendering (its chat template's tokenizer is used).
        generation: Default decoding settings (requests override ``max_new_tokens`` and sampling).
        batch_size: Requests generated together.
        max_frames_num: With ``pretrained``: frames sampled uniformly per video.
        time_instruction: With ``pretrained``: add LLaVA-Video's time instruction.
        device: With ``pretrained``: where the model runs.
        dtype: With ``pretrained``: ``float32``, ``bfloat16`` or ``float16``.
    """

    is_simple = True

    def __init__(
        self,
        pretrained: str | None = None,
        model: Any = None,
        tokenizer: Any = None,
        prompter: VideoPrompter | None = None,
        generation: GenerationSettings | None = None,
        batch_size: int | str = 1,
        max_frames_num: int | str = 64,
        time_instruction: bool | str = False,
        device: str = "cpu",
        dtype: str = "bfloat16",
    ) -> None:
        super().__init__()
        if pretrained is not None:
            model, tokenizer, prompter = _from_pretrained(
                Path(pretrained), int(max_frames_num), str(time_instruction).lower() == "true", device, dtype
            )
        if model is None or tokenizer is None or prompter is None:
            raise ValueError("give either pretrained=DIR or the built model, tokenizer and prompter")
        self.model = model
        self.tokenizer = tokenizer
        self.prompter = prompter
        self.generator = ReplyGenerator(model, tokenizer, generation or GenerationSettings())
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.task_dict: dict = {}  # lmms-eval's evaluator fills it with the tasks' documents

    def _document(self, doc_to_visual: Callable, doc_id: int, task: str, split: str) -> tuple[Any, str]:
        """The document of a request and its one video path."""
        doc = self.task_dict[task][split][doc_id]
        visuals = list(doc_to_visual(doc) or [])
        if len(visuals) != 1 or not isinstance(visuals[0], str | Path):
            raise ValueError(f"{task} doc {doc_id}: expected exactly one video path, got {visuals!r}")
        return doc, str(visuals[0])

    def _settings(self, gen_kwargs: dict[str, Any]) -> GenerationSettings:
        """A request's decoding settings (greedy unless it samples with a positive temperature)."""
        if int(gen_kwargs.get("num_beams", 1)) != 1:
            raise ValueError(f"beam search is not supported (num_beams={gen_kwargs['num_beams']})")
        base = self.generator.settings
        temperature = float(gen_kwargs.get("temperature", base.temperature) or 0.0)
        sample = bool(gen_kwargs.get("do_sample", False)) and temperature > 0
        return GenerationSettings(
            max_new_tokens=int(gen_kwargs.get("max_new_tokens", base.max_new_tokens)),
            do_sample=sample,
            temperature=temperature if sample else base.temperature,
            top_p=float(gen_kwargs.get("top_p", base.top_p) or base.top_p),
            end_tokens=base.end_tokens,
        )

    def _reply(
        self, prompted: Sequence[PromptedVideo], settings: GenerationSettings, until: Sequence[str]
    ) -> list[str]:
        replies = self.generator([p.input_ids for p in prompted], [p.frames for p in prompted], settings)
        return [cut_at_strings(r, until).strip() for r in replies]

    def generate_until(self, requests: Sequence[Any]) -> list[str]:
        """Generate one reply per request, batching consecutive requests with the same settings."""
        out: list[str] = []
        for chunk in _chunks([r.args for r in requests], self.batch_size):
            gen_kwargs = dict(chunk[0][1])
            until = _until(gen_kwargs.pop("until", None))
            prompted = []
            for context, _, doc_to_visual, doc_id, task, split in chunk:
                _, video = self._document(doc_to_visual, doc_id, task, split)
                prompted.append(self.prompter(video, normalise_marker(context)))
            out += self._reply(prompted, self._settings(gen_kwargs), until)
        return out

    def loglikelihood(self, requests: Sequence[Any]) -> list[tuple[float, bool]]:
        """``(loss, continuation is greedy)`` per request, ``loss`` the mean negative log-likelihood of its tokens.

        lmms-eval's video models (``llava_vid``, ``llava_onevision``) return this loss rather than the
        log-probability its base class describes, and its ``multiple_choice`` tasks pick the choice with
        the smallest value; the adapter follows that practice so those tasks score correctly.
        """
        out = []
        for context, target, doc_to_visual, doc_id, task, split in (r.args for r in requests):
            doc, video = self._document(doc_to_visual, doc_id, task, split)
            continuation = target if isinstance(target, str) else target(doc)
            prompted = self.prompter(video, normalise_marker(context))
            ids = self.tokenizer.encode(continuation, add_special_tokens=False, return_tensors="pt")[0]
            logprob, greedy = continuation_logprob(self.model, prompted.input_ids, ids, prompted.frames)
            out.append((-logprob / ids.numel(), greedy))
        return out

    def generate_until_multi_round(self, requests: Sequence[Any]) -> list[tuple[str, ...]]:
        """Several rounds per request: each later round's context comes from the task's ``doc_to_text``.

        Round ``k > 0`` calls ``doc_to_text(doc, previous_output=..., round_idx=k, previous_round_info=...)``
        which returns ``(visuals, context, done, round_results, info)``; the conversation so far (each
        context and reply) stays in the prompt. The result per request is every round's reply.
        """
        out = []
        for context, gen_kwargs, doc_to_visual, doc_to_text, doc_id, task, split in (r.args for r in requests):
            doc, video = self._document(doc_to_visual, doc_id, task, split)
            kwargs = dict(gen_kwargs)
            until, settings = _until(kwargs.pop("until", None)), self._settings(kwargs)
            turns: list[Turn] = []
            replies: list[str] = []
            info = None
            for round_idx in itertools.count():
                if round_idx:
                    _, context, done, _, info = doc_to_text(
                        doc, previous_output=list(replies), round_idx=round_idx, previous_round_info=info
                    )
                    if done:
                        break
                turns.append(Turn("user", normalise_marker(context)))
                reply = self._reply([self.prompter.conversation(video, turns)], settings, until)[0]
                turns.append(Turn("assistant", reply))
                replies.append(reply)
            out.append(tuple(replies))
        return out


def _chunks(args: list[tuple], size: int) -> list[list[tuple]]:
    """Consecutive runs of at most ``size`` requests that share their generation arguments."""
    chunks: list[list[tuple]] = []
    for item in args:
        if chunks and len(chunks[-1]) < size and chunks[-1][0][1] == item[1]:
            chunks[-1].append(item)
        else:
            chunks.append([item])
    return chunks


def _until(value: Any) -> list[str]:
    """lmms-eval's ``until``: a string, a list of strings, or nothing."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _from_pretrained(path: Path, frames: int, time_instruction: bool, device: str, dtype: str) -> tuple:
    """Model, tokenizer and prompter of a HF LLaVA directory (its own tokenizer, LLaVA-Video's prompt)."""
    import torch

    from videolmm.data.conversation import ChatTemplate
    from videolmm.data.decode import PyAVDecoder
    from videolmm.data.frames import UniformFrames
    from videolmm.data.sample import VisualBudget
    from videolmm.eval.loading import checkpoint_tokenizer, load_model, matched_transform

    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if dtype not in dtypes:
        raise ValueError(f"dtype must be one of {', '.join(dtypes)}, got {dtype!r}")
    model, _ = load_model(None, path)  # type: ignore[arg-type]  # a directory needs no model config
    model = model.to(device=device, dtype=dtypes[dtype])
    tokenizer = checkpoint_tokenizer(path)
    if tokenizer is None:
        raise FileNotFoundError(f"{path} has no tokenizer files (tokenizer.json / tokenizer_config.json)")
    chat = ChatTemplate(tokenizer, placeholder_token=tokenizer.convert_ids_to_tokens(model.video_token_id))
    budget = VisualBudget(model.reducer, model.separators.layout, model.grid)
    transform = matched_transform(model.encoder)
    prompter = VideoPrompter(chat, PyAVDecoder(), UniformFrames(frames), transform, budget, time_instruction)
    return model, tokenizer, prompter
