"""The layer order of README's Layout section, encoded once.

A module may import only from its own layer and the layers below it (a smaller number);
``tests/unit/test_layers.py`` parses every module's imports and fails on any that run
upward. Registries naming loaders as ``"module:function"`` strings load them on demand,
which is not an import and is not checked.
"""

from __future__ import annotations

#: module prefix -> layer (1 is the foundation, 14 the views); the longest prefix wins.
LAYERS: dict[str, int] = {
    "embedlab.errors": 1,
    "embedlab.settings": 1,
    "embedlab.plugins": 1,
    "embedlab.layers": 1,
    "embedlab.bounded": 1,
    "embedlab.vectors": 2,
    "embedlab.models": 3,
    "embedlab.data": 4,
    "embedlab.explore": 5,
    "embedlab.stores.ingest": 6,
    "embedlab.stores.chunking": 6,
    "embedlab.stores": 7,
    "embedlab.search": 8,
    "embedlab.ask": 9,
    "embedlab.evaluate": 10,
    "embedlab.train": 11,
    "embedlab.maps": 12,
    "embedlab.figures": 13,
    "embedlab.server": 14,
    "embedlab.cli": 14,
    "embedlab.demo": 14,
    "embedlab": 14,  # the Python API in embedlab/__init__.py (this exact name only)
}

#: layer number -> its name in README's list.
NAMES: dict[int, str] = {
    1: "foundation",
    2: "vectors",
    3: "models",
    4: "data",
    5: "explore",
    6: "ingest",
    7: "stores",
    8: "search",
    9: "ask",
    10: "evaluate",
    11: "train",
    12: "maps",
    13: "figures",
    14: "views",
}


def layer_of(module: str) -> int:
    """The layer of dotted module name ``module`` (an ``embedlab`` module).

    :raises KeyError: a module no prefix covers (a new top-level module needs its own row).
    """
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS:
            return LAYERS[prefix]
    if module == "embedlab":
        return LAYERS[module]
    raise KeyError(f"{module} is not an embedlab module: add its prefix to embedlab.layers.LAYERS")


__all__ = ["LAYERS", "NAMES", "layer_of"]
