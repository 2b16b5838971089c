"""Which face-to-face centre serves a person: the one of the service's
centres that serves their postcode district, else the service's first
(council housing: the Cable Street office; LA3 and LA4: Morecambe)."""

from __future__ import annotations

from council.catalogue import Catalogue, Centre, Service


def nearest_centre(service: Service | None, postcode: str | None, catalogue: Catalogue) -> Centre | None:
    """The centre for this service nearest the postcode; with no service,
    among the centres that serve districts. None if there is no centre."""
    candidates = list(service.centres) if service else [c for c in catalogue.centres if catalogue.centres[c].serves]
    if not candidates:
        return None
    outward = (postcode or "").strip().upper().split(" ")[0]
    for centre_id in candidates:
        if outward and outward in catalogue.centres[centre_id].serves:
            return catalogue.centres[centre_id]
    return catalogue.centres[candidates[0]]
