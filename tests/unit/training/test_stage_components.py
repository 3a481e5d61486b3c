"""`Stage.unmatched_components`: the one comparison of a stage with a model's components.

`Stage.check_components` (at ``apply``) and the start-up check `videolmm.config.combinations.stage_problems`
both read it, so they cannot disagree on what a stage must name.
"""

import re

import pytest
from torch import nn

from videolmm.training import Stage


class Parts(nn.Module):
    """Children with parameters (``encoder``, ``llm``) and one without (``reducer``)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(2, 2)
        self.reducer = nn.Identity()
        self.llm = nn.Linear(2, 2)


def test_a_stage_naming_every_component_with_parameters_fits_with_or_without_the_parameterless_ones():
    assert Stage("a", {"encoder": True, "llm": False}).unmatched_components(Parts()) == ([], [])
    assert Stage("b", {"encoder": True, "reducer": True, "llm": False}).unmatched_components(Parts()) == ([], [])


def test_missing_and_unknown_names_come_back_sorted():
    stage = Stage("c", {"vision": True, "adapter": True})
    assert stage.unmatched_components(Parts()) == (["encoder", "llm"], ["adapter", "vision"])


def test_a_child_added_to_the_model_is_a_component_the_stage_must_name():
    model = Parts()
    model.adapter = nn.Linear(2, 2)
    stage = Stage("d", {"encoder": True, "llm": True})
    assert stage.unmatched_components(model) == (["adapter"], [])
    with pytest.raises(ValueError, match=r"missing: \['adapter'\], unknown: \[\]"):
        stage.check_components(model)


def test_check_components_raises_with_what_unmatched_components_finds():
    message = (
        "stage 'c' names components ['adapter', 'vision'] but the model's components with parameters are "
        "['encoder', 'llm'] (missing: ['encoder', 'llm'], unknown: ['adapter', 'vision'])"
    )
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        Stage("c", {"vision": True, "adapter": True}).check_components(Parts())
    assert str(raised.value) == message
