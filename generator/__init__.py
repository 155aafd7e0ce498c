"""fixpack: compile OpenStack database repairs into reviewable change bundles.

The package is a pipeline; each stage is its own subpackage and passes frozen
dataclasses forward:

    connect -> schema/facts (introspect) -> plan -> render -> lint -> bundle
"""

__version__ = "0.1.0"
