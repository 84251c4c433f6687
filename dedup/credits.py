"""Attribution in a news text: the agencies it credits, its dateline and its byline.

A copy that keeps most of a wire story but no longer names the agency, or drops
the dateline, hides where the story came from; a changed byline claims it.
`attribution_drift` compares a source with its copy:

* ``credit_dropped`` — an agency the source names (``AGENCIES`` and the names a
  scan adds, `dedup.Params.credits`, matched as whole words in the case given;
  and any ``(XYZ)`` of the source's dateline, ``WASHINGTON (AP) —``) that the
  copy does not name anywhere, by any of its names;
* ``dateline_dropped`` — the source opens a paragraph with a dateline (a place in
  capitals, a credit in brackets perhaps, then a dash: ``KABUL, Afghanistan —``)
  and the copy has no dateline of that place;
* ``byline_changed`` — both texts carry a byline (``By NAME``) and the names differ.

Each comes with the source's offset, to place it in its passage. The caller asks
only when the copy keeps at least half of the source (`dedup.align`): an excerpt
that quotes one paragraph owes no dateline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Agencies by the names they are credited with: the short form (as it stands in a dateline) first.
AGENCIES: dict[str, tuple[str, ...]] = {
    "AP": ("AP", "Associated Press"), "Reuters": ("Reuters",),
    "AFP": ("AFP", "Agence France-Presse", "Agence France Presse"), "dpa": ("dpa", "Deutsche Presse-Agentur"),
    "EFE": ("EFE",), "ANSA": ("ANSA",), "UPI": ("UPI", "United Press International"),
    "PTI": ("PTI", "Press Trust of India"), "ANI": ("ANI", "Asian News International"), "IANS": ("IANS",),
    "APP": ("APP", "Associated Press of Pakistan"), "Xinhua": ("Xinhua",), "Kyodo": ("Kyodo",),
    "Yonhap": ("Yonhap",), "Bernama": ("Bernama",), "Anadolu": ("Anadolu",), "TASS": ("TASS",),
    "AAP": ("AAP", "Australian Associated Press"), "CP": ("The Canadian Press",), "Bloomberg": ("Bloomberg",),
}
_DASH = r"(?:—|–|--| - )"
# A paragraph opening with a place in capitals (a region after a comma may follow), perhaps a
# credit in brackets, then a dash.
_DATELINE = re.compile(
    r"^[ \t]*(?P<place>[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*)(?:, [A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*)?"
    r"[ \t]*(?:\((?P<credit>[A-Za-z][\w .-]{1,30})\)[ \t]*)?" + _DASH, re.MULTILINE)
_BYLINE = re.compile(r"^[ \t]*(?:[-–—][ \t]*)?[Bb][Yy][ \t]+(?P<names>[A-Z][\w.'’-]*(?:[ \t]+[\w.'’-]+){0,7})[ \t]*$",
                     re.MULTILINE)


def attribution_drift(a_text: str, b_text: str, extra: Iterable[str] = ()) -> list[tuple[str, int, str, str]]:
    """(fact, offset in a, a_value, b_value) of each credit, dateline or byline the copy b lost
    or changed against the source a; extra: more agency names to look for."""
    names = _names(tuple(extra))
    out = []
    copy_credits = {agency for agency, _, _ in _credits(b_text, names)}
    for agency, offset, value in _credits(a_text, names):
        if agency not in copy_credits:
            out.append(("credit_dropped", offset, value, ""))
    copy_datelines = _datelines(b_text)
    copy_places = {place.casefold() for place, _, _ in copy_datelines}
    copy_dateline = copy_datelines[0][2] if copy_datelines else ""
    for place, offset, value in _datelines(a_text)[:1]:  # a story has one dateline; later ones quote others
        if place.casefold() not in copy_places:
            out.append(("dateline_dropped", offset, value, copy_dateline))
    a_byline, b_byline = _byline(a_text), _byline(b_text)
    if a_byline and b_byline and _people(a_byline[1]) != _people(b_byline[1]):
        out.append(("byline_changed", a_byline[0], a_byline[1], b_byline[1]))
    return out


Names = tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]


@lru_cache(maxsize=64)
def _names(extra: tuple[str, ...]) -> Names:
    """(agency, its names, a pattern of them as whole words) for the known agencies and the extra names."""
    agencies = {**AGENCIES, **{name: (name,) for name in extra if name not in AGENCIES}}
    return tuple((agency, forms, re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in forms) + r")(?!\w)"))
                 for agency, forms in agencies.items())


@lru_cache(maxsize=4096)
def _credits(text: str, names: Names) -> list[tuple[str, int, str]]:
    """(agency, offset, as written) of each agency the text names, first mention each; a
    dateline's bracketed credit counts under its own name when it is no known agency's.
    Cached: a source meets each of its copies."""
    found: dict[str, tuple[int, str]] = {}
    for agency, forms, pattern in names:
        # Most texts hold none of an agency's names: a substring test says so far faster than the
        # pattern, whose look-arounds it tries at every position.
        match = pattern.search(text) if any(form in text for form in forms) else None
        if match:
            found[agency] = (match.start(), match.group())
    for dateline in _DATELINE.finditer(text):
        credit = dateline.group("credit")
        if credit and not any(pattern.fullmatch(credit) for _, _, pattern in names):
            found.setdefault(credit, (dateline.start("credit") - 1, f"({credit})"))
    return sorted(((agency, offset, value) for agency, (offset, value) in found.items()), key=lambda c: c[1])


@lru_cache(maxsize=4096)
def _datelines(text: str) -> list[tuple[str, int, str]]:
    """(place, offset, the dateline as written) of each paragraph that opens with a dateline."""
    return [(m.group("place"), m.start("place"), m.group().strip()) for m in _DATELINE.finditer(text)
            if len(m.group("place")) >= 3]


def _byline(text: str) -> tuple[int, str] | None:
    """(offset, names) of the text's first byline, if it has one."""
    match = _BYLINE.search(text)
    return (match.start("names"), match.group("names").strip()) if match else None


def _people(names: str) -> frozenset[str]:
    """The words of a byline's names, case and "and" aside: "ROBERT BURNS AND LOLITA C. BALDOR"."""
    return frozenset(word for word in re.findall(r"[\w'’-]+", names.casefold()) if word != "and")
