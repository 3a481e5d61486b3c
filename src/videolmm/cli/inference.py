"""What ``videolmm-generate`` and ``videolmm-eval`` share: the model, its tokenizer and the prompt path.

`build_inference` loads or builds the model (`videolmm.eval.load_model`), applies the evaluation
setting's representation to a loaded checkpoint when the setting asks for it, takes the
checkpoint's tokenizer (or the configured one), and builds the `VideoPrompter` with the frame
transform matched to the encoder. The placeholder token is the tokenizer's token for the model's
``video_token_id``, so prompts and model always agree.
"""

from dataclasses import dataclass
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig

from videolmm.data.conversation import ChatTemplate
from videolmm.data.sample import VisualBudget
from videolmm.eval.generation import GenerationSettings
from videolmm.eval.loading import checkpoint_tokenizer, load_model, matched_transform, with_representation
from videolmm.eval.prompter import VideoPrompter
from videolmm.eval.prompts import PromptFormat
from videolmm.model.videolmm import VideoLMM


@dataclass
class Inference:
    """Everything needed to answer questions.

    Attributes:
        model: The model, in eval mode.
        tokenizer: Its tokenizer.
        prompter: Video + text -> frames + prompt ids.
        generation: Decoding settings.
        prompt_format: How benchmark questions become text.
        description: Where the weights came from (printed and written with results).
    """

    model: VideoLMM
    tokenizer: Any
    prompter: VideoPrompter
    generation: GenerationSettings
    prompt_format: PromptFormat
    description: str


def build_inference(cfg: DictConfig) -> Inference:
    """Build the `Inference` of a ``generate`` / ``eval`` config (see the module docstring).

    Raises:
        ValueError: The tokenizer does not fit the model (vocabulary, placeholder token).
    """
    model, description = load_model(cfg.model, cfg.checkpoint)
    if cfg.checkpoint is not None and cfg.evaluation.replace_checkpoint_representation:
        with_representation(model, instantiate(cfg.reducer), cfg.separators.position)
        description += f", evaluated with {model.reducer!r} and separators {cfg.separators.position!r}"
    tokenizer = checkpoint_tokenizer(cfg.checkpoint) or instantiate(cfg.tokenizer)
    if len(tokenizer) > model.llm.vocab_size:
        raise ValueError(f"the tokenizer has {len(tokenizer)} tokens but the model's LM head {model.llm.vocab_size}")
    placeholder = tokenizer.convert_ids_to_tokens(model.video_token_id)
    chat = ChatTemplate(tokenizer, cfg.system_prompt, placeholder_token=placeholder, max_length=cfg.max_length)
    prompter = VideoPrompter(
        chat,
        instantiate(cfg.decoder),
        instantiate(cfg.frames),
        matched_transform(model.encoder),
        VisualBudget(model.reducer, model.separators.layout, model.grid),
        cfg.evaluation.time_instruction,
    )
    generation = instantiate(cfg.evaluation.generation, end_tokens=tuple(cfg.evaluation.generation.end_tokens))
    return Inference(model, tokenizer, prompter, generation, instantiate(cfg.evaluation.prompt), description)
