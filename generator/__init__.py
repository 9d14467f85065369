"""ocppgen: generate typed, fast OCPP packages from the official JSON schemas.

Pipeline (``pipeline.generate``): load (``load``) -> IR (``build``) -> passes (``passes``)
-> templates and black (``render``) -> write or check (``output``).
"""

__all__: list[str] = []
