"""The screening rubric: what each level of each review criterion means, shown on the
review form beside the project's summary so that reviewers score against the same
words. The weights are `services`'; this says only what a 1 to a 5 stands for."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# The level's short name, the same for every criterion.
LEVELS = {
    1: _("1: does not meet it"),
    2: _("2: weak"),
    3: _("3: adequate"),
    4: _("4: strong"),
    5: _("5: excellent"),
}

# criterion → (what a 1 means, …, what a 5 means)
DESCRIPTIONS = {
    "strategic_fit": (
        _("Outside the pool's priorities."),
        _("Touches a priority only in passing."),
        _("Serves one of the pool's priorities."),
        _("Serves several priorities directly."),
        _("A flagship for the pool's priorities."),
    ),
    "supply_chain_linkage": (
        _("No link to regional supply chains."),
        _("A weak or indirect link."),
        _("Links one stage of a supply chain across borders."),
        _("Links several stages or partners across borders."),
        _("Builds a cross-border chain that others can join."),
    ),
    "feasibility": (
        _("No market basis and no plan."),
        _("A plan with major gaps (market, funding or permits)."),
        _("A workable plan with some open questions."),
        _("A sound plan, with market evidence and funding in view."),
        _("Ready to start: market, funding and permits secured."),
    ),
    "partner_capacity": (
        _("The partners lack the means to carry it out."),
        _("The partners have limited experience or means."),
        _("The partners can carry it out with support."),
        _("Experienced partners with the means it needs."),
        _("Proven partners who have done this before."),
    ),
    "regional_balance": (
        _("Adds to countries the pool already serves well."),
        _("Little effect on the pool's regional balance."),
        _("Neutral to the regional balance."),
        _("Reaches a country or region the pool under-serves."),
        _("Opens a region the pool does not reach yet."),
    ),
    "risk": (
        _("High risk, no mitigation."),
        _("Significant risks, weak mitigation."),
        _("Moderate risks, with a mitigation plan."),
        _("Low risks, well mitigated."),
        _("Minimal risk."),
    ),
}


def choices(criterion: str) -> list[tuple[int, str]]:
    """The radio choices of one criterion: "3: adequate — <what 3 means here>"."""
    return [
        (level, format_lazy("{} — {}", LEVELS[level], description))
        for level, description in zip(LEVELS, DESCRIPTIONS[criterion], strict=True)
    ]
