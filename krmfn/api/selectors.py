"""Pieces several krmfn kinds share: Kubernetes label selectors and agent references."""

from __future__ import annotations

from typing import Annotated, Literal

from ..runtime.typed import AfterValidator, Field, KrmModel, model_validator
from .common import dns_label


class LabelSelectorRequirement(KrmModel):
    """One Kubernetes label selector expression."""

    key: str = Field(min_length=1, description="the label key")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="how the label is compared")
    values: list[str] = Field(default_factory=list, description="for In and NotIn; empty for Exists and DoesNotExist")

    @model_validator(mode="after")
    def _values_fit_operator(self) -> "LabelSelectorRequirement":
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs values")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(KrmModel):
    """A Kubernetes label selector: every matchLabels entry and every expression must hold."""

    match_labels: dict[str, str] = Field(default_factory=dict, alias="matchLabels",
                                         description="labels that must be present with these values")
    match_expressions: list[LabelSelectorRequirement] = Field(
        default_factory=list, alias="matchExpressions", description="set-based requirements")

    @model_validator(mode="after")
    def _not_empty(self) -> "LabelSelector":
        if not self.match_labels and not self.match_expressions:
            raise ValueError("an empty selector selects everything; set matchLabels or matchExpressions "
                             "(or leave the selector out)")
        return self

    def keys(self) -> set[str]:
        return set(self.match_labels) | {e.key for e in self.match_expressions}

    def matches(self, labels: dict[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        for expr in self.match_expressions:
            present = expr.key in labels
            if expr.operator == "In" and not (present and labels[expr.key] in expr.values):
                return False
            if expr.operator == "NotIn" and present and labels[expr.key] in expr.values:
                return False
            if expr.operator == "Exists" and not present:
                return False
            if expr.operator == "DoesNotExist" and present:
                return False
        return True


def agent_reference(value: str) -> str:
    parts = value.split("/")
    if len(parts) > 2:
        raise ValueError(f"{value!r}: write NAME or NAMESPACE/NAME")
    for part in parts:
        dns_label(part)
    return value


AgentReference = Annotated[str, AfterValidator(agent_reference)]
