"""What the peers share with the project: the names of a model's parameters, in layer order."""

from l1l2.core import model


def names(params: dict) -> list[str]:
    """["dense1/W", "dense1/b", ...] in layer order."""
    return [f"{n}/{p}" for n in model.layer_names(params) for p in ("W", "b")]
