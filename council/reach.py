"""Who can take a person now, decided from the catalogue and the hours: the
service's team when its line is open, an urgent service's out-of-hours line
when it is not, else when it opens. The actions ask it when someone wants a
person; the telephony bridge when it must act without the bot (the bot is
down, a keypad choice, a directory match)."""

from __future__ import annotations

from dataclasses import dataclass

from council import hours
from council.catalogue import Catalogue, Service
from council.clock import now


@dataclass(frozen=True)
class Target:
    """A line to put the caller through to, or (phone None) why not now."""

    name: str            # "the Council Tax team"
    phone: str | None    # national format; None: nobody can take the call now
    service: str | None
    out_of_hours: bool = False
    opens: str = ""      # "at 8am on Monday" when closed
    web: str = ""


def opens(catalogue: Catalogue, schedule_id: str) -> str:
    """'at 8am on Monday', relative to now; '' when it never closes."""
    current = now()
    opening = hours.next_opening(catalogue.schedules[schedule_id], catalogue.bank_holidays, current)
    return hours.say_when(opening, current) if opening else ""


def is_open(catalogue: Catalogue, schedule_id: str) -> bool:
    return hours.is_open(catalogue.schedules[schedule_id], catalogue.bank_holidays, now())


def line(catalogue: Catalogue, name: str, phone: str, schedule_id: str, service: Service | None,
         web: str, out_of_hours_phone: str | None = None) -> Target:
    """The line itself when it is open; an out-of-hours line (urgent services)
    when it is not; else a closed target that says when it opens."""
    sid = service.id if service else None
    if is_open(catalogue, schedule_id):
        return Target(name, phone, sid, web=web)
    if out_of_hours_phone:
        return Target("the out-of-hours team", out_of_hours_phone, sid, out_of_hours=True, web=web)
    return Target(name, None, sid, opens=opens(catalogue, schedule_id), web=web)


def for_service(catalogue: Catalogue, service_id: str | None) -> Target:
    """The service's team, or the contact centre when there is no (council) service."""
    service = catalogue.services.get(service_id) if service_id else None
    if service is None or not service.routable:
        contact = catalogue.contact_centre
        return line(catalogue, contact.name, contact.phone, contact.hours, None, contact.web)
    return line(catalogue, f"the {service.name} team", service.phone, service.hours, service,
                service.web, service.out_of_hours_phone)


def contact_centre_open(catalogue: Catalogue) -> bool:
    return is_open(catalogue, catalogue.contact_centre.hours)


def contact_centre_opens(catalogue: Catalogue) -> str:
    return opens(catalogue, catalogue.contact_centre.hours)
