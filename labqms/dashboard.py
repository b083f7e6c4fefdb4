"""The home page's work queues (R-MGT-4): a small registry the apps fill.

The kernel never imports an app (DESIGN.md), so each app describes its own queues in
``<app>/dashboard.py`` and registers a provider from its ``AppConfig.ready()``::

    dashboard.register(queues, actions=("intake.view", "intake.receive_order"))

``actions`` names every permission the provider asks about.  :func:`collect` answers
them all with one :func:`labqms.permissions.can_many` call and hands the answers to each
provider as ``allowed``; a provider none of whose actions is allowed is not called at
all, so a person never pays for queues they cannot see.  A provider is
``queues(user, today, *, allowed) -> list[Queue]`` and shows a queue only when
``allowed`` grants the permission of the list the queue links to.

Counts come from the same querysets (or the same ``Q`` conditions) the linked lists use,
so a count and its list cannot disagree; a provider issues a fixed number of queries
whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.urls import reverse

from labqms import permissions

# Most urgent first.  "success" is for a figure that meets its target.
LEVELS = ("danger", "warning", "info", "secondary", "success")
QUEUE, FIGURE = "queue", "figure"


@dataclass(frozen=True)
class Queue:
    """One line of a dashboard: ``count`` things waiting, linked to the list showing
    exactly them (``url`` carries the filter as its query string).

    A *figure* (``kind=FIGURE``: an objective's value, a survey's mean score) shows
    ``value`` instead of counting work; ``count`` is then what the linked page counts
    (e.g. survey answers), or None."""

    key: str
    label: str
    count: int | None
    url: str
    level: str = "info"
    hint: str = ""
    kind: str = QUEUE
    value: str = ""

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"Unknown dashboard level {self.level!r}")

    @property
    def shown_level(self) -> str:
        """An empty queue needs nobody: it is shown quietly, whatever its urgency."""
        if self.kind == QUEUE and not self.count:
            return "secondary"
        return self.level

    @property
    def rank(self) -> int:
        return LEVELS.index(self.shown_level)


def link(name: str, *args, **params) -> str:
    """``reverse(name, args)`` with ``params`` as the query string (None values left out)."""
    url = reverse(name, args=args)
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}?{query}" if query else url


@dataclass(frozen=True)
class Provider:
    queues: Callable[..., list[Queue]]
    actions: frozenset[str] = field(default_factory=frozenset)


_providers: list[Provider] = []


def register(queues: Callable[..., list[Queue]], *, actions: Iterable[str]) -> None:
    """Add an app's provider (idempotent: ``ready()`` may run twice in tests)."""
    actions = frozenset(actions)
    for action in actions:
        if action not in permissions.RULES and action not in permissions.ANY_OF:
            raise ValueError(f"Unknown permission action {action!r}")
    if any(p.queues is queues for p in _providers):
        return
    _providers.append(Provider(queues, actions))


def providers() -> list[Provider]:
    return list(_providers)


@dataclass
class Dashboard:
    queues: list[Queue]
    figures: list[Queue]
    allowed: Mapping[str, bool]


def collect(user, today: date, *, extra_actions: Iterable[str] = ()) -> Dashboard:
    """Every queue and figure ``user`` may see on ``today``, most urgent first (a stable
    sort: within one urgency, the order the apps list them).  ``extra_actions`` are
    answered in the same permission call, for the page's other links."""
    wanted = set(extra_actions).union(*(p.actions for p in _providers))
    allowed = permissions.can_many(user, wanted, on=today) if wanted else {}
    rows: list[Queue] = []
    for provider in _providers:
        if any(allowed[action] for action in provider.actions):
            rows.extend(provider.queues(user, today, allowed=allowed))
    rows.sort(key=lambda row: row.rank)
    return Dashboard(
        queues=[row for row in rows if row.kind == QUEUE],
        figures=[row for row in rows if row.kind == FIGURE],
        allowed=allowed,
    )
