"""Spoken clock times -> the next moment they happen: "7 am", "6:30 p.m.",
"seven thirty", "half past six", "quarter to eight", "noon", "9 tomorrow"."""

from __future__ import annotations

import datetime as dt
import re

WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
         "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "oh": 0}
_TIME = re.compile(r"^(\d{1,2})(?:[:\s](\d{1,2}))?\s*(am|pm)?$")


def _words_to_digits(text: str) -> str:
    out: list[str] = []
    for word in text.split():
        n = WORDS.get(word)
        if n is None:
            out.append(word)
        elif out and out[-1].isdigit() and int(out[-1]) in (20, 30, 40, 50) and n < 10:
            out[-1] = str(int(out[-1]) + n)  # "forty five"
        elif n == 0 and out and out[-1].isdigit():
            out.append("0")  # "seven oh five"
        else:
            out.append(str(n))
    text = " ".join(out)
    return re.sub(r"(\d+) 0 (\d)\b", r"\1 0\2", text)


def parse_clock(text: str, now: dt.datetime) -> dt.datetime | None:
    """The next time (after ``now``) that ``text`` names, or None if it names none."""
    t = text.lower().replace("a.m.", "am").replace("p.m.", "pm").replace("a m", "am")
    t = re.sub(r"[^\w:' ]", " ", t)
    tomorrow = "tomorrow" in t
    evening = any(w in t for w in ("tonight", "evening", "afternoon"))
    morning = "morning" in t
    t = re.sub(r"\b(tomorrow|today|tonight|in the|this|morning|evening|afternoon|at|o'clock|oclock|"
               r"o clock|please)\b", " ", t)
    t = " ".join(_words_to_digits(" ".join(t.split())).split())
    if t in ("noon", "midday"):
        hour, minute, half = 12, 0, "pm"
    elif t == "midnight":
        hour, minute, half = 12, 0, "am"
    else:
        rel = re.match(r"^(half|quarter|\d{1,2}) (past|after|to|before) (\d{1,2})\s*(am|pm)?$", t)
        if rel:
            amount = {"half": 30, "quarter": 15}.get(rel.group(1)) or int(rel.group(1))
            hour = int(rel.group(3))
            minute = amount if rel.group(2) in ("past", "after") else 60 - amount
            hour = hour if rel.group(2) in ("past", "after") else hour - 1
            half = rel.group(4)
        else:
            m = _TIME.match(t)
            if not m:
                return None
            hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if half is None and morning:
        half = "am"
    elif half is None and evening:
        half = "pm"
    if not (0 <= hour <= 23 and 0 <= minute <= 59) or (half and not 1 <= hour <= 12):
        return None
    if half == "pm" and hour != 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    base = now.replace(second=0, microsecond=0)
    options = [hour] if half or hour == 0 or hour > 12 else [hour % 12, hour % 12 + 12]
    candidates = []
    for day in (0, 1, 2):
        for h in options:
            when = base.replace(hour=h, minute=minute) + dt.timedelta(days=day)
            if when > now and (not tomorrow or when.date() > now.date()):
                candidates.append(when)
    return min(candidates) if candidates else None


def say_time(when: dt.datetime) -> str:
    """"7:00 AM", "6:30 PM"."""
    return when.strftime("%I:%M %p").lstrip("0")
