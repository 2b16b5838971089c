"""The handoff service's Prometheus metrics: cases created, claimed and
closed (by outcome, through the API or the staff pages), on top of the HTTP
measures every service has (answers by status class, latency by route)."""

from __future__ import annotations

from prometheus_client import Counter

from plumbing.observability import HttpMetrics


class HandoffMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__("handoff")
        self.cases_created = Counter("handoff_cases_created", "Cases stored (a repeated create is not counted)",
                                     ["channel", "priority"], registry=self.registry)
        self.claims = Counter("handoff_claims", "Cases claimed by staff", ["via"], registry=self.registry)
        self.outcomes = Counter("handoff_outcomes", "Outcomes recorded, by outcome", ["outcome", "via"],
                                registry=self.registry)
