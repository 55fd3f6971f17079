"""The base of every public model: frozen, and unknown fields refused (`extra="forbid"`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
