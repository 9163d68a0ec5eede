"""A key's valid range is declared on its schema field (`rsx.ranges.ranged`), the one place
its default lives too; validation finds it there, for rsx's own sections and plugins' alike."""

import dataclasses

import pytest

from rsx.config import TrainerConfig
from rsx.errors import ConfigError
from rsx.ranges import at_least, range_of, ranged
from rsx.testing.compose import compose_config
from rsx.validation import validate


def test_a_field_carries_its_default_and_its_range():
    epochs = {f.name: f for f in dataclasses.fields(TrainerConfig)}["epochs"]
    assert epochs.default == 5
    assert range_of(epochs).test(1) and not range_of(epochs).test(0)

    @dataclasses.dataclass
    class Plain:
        width: int = ranged(8, at_least(2))
        free: int = 3

    fields = {f.name: f for f in dataclasses.fields(Plain)}
    assert Plain().width == 8 and range_of(fields["free"]) is None


@pytest.mark.parametrize("override, message", [
    ("trainer.steps_per_execution=0", "trainer.steps_per_execution=0 is out of range -> set trainer.steps_per_execution to >= 1"),
    # A plugin's own field (the synthetic dataset's), with no rule anywhere but its schema.
    ("data.rank=0", "data.rank=0 is out of range -> set data.rank to >= 1"),
    ("data.validation_fraction=1.0", "data.validation_fraction=1.0 is out of range"),
])
def test_validation_reads_ranges_from_the_schema(override, message):
    cfg = compose_config(["data=synthetic", "tracking.uri=sqlite:///unused.db", override])
    with pytest.raises(ConfigError) as error:
        validate(cfg)
    assert message in str(error.value)


def test_values_inside_their_ranges_pass():
    validate(compose_config(["data=synthetic", "tracking.uri=sqlite:///unused.db", "data.rank=2", "trainer.steps_per_execution=4"]))
