"""How bylines read, e.g. "A and B, Assistant Directors at the Health Foundation"."""

import re
from dataclasses import dataclass

# Words after which the head noun of a job title has ended: "Head of News",
# "Director in Clinical Quality", "Editor at Large".
_TITLE_BREAKS = {"of", "in", "for", "at", "to", "on", "with", "and", "&"}
_IRREGULAR = {"man": "men", "staff": "staff"}
_POSTPOSITIVE = {"general", "elect", "designate"}


@dataclass(frozen=True)
class Credit:
    """One author as the byline names them."""

    name: str
    job_title: str = ""
    organisation: str = ""
    url: str = ""

    @property
    def role_key(self):
        return (self.job_title.strip(), self.organisation.strip())


def byline_role(own_role, frozen, author_role):
    """
    The (job title, organisation) a byline shows: its own once first publication has frozen
    it or an editor has typed one, the author's current role until then.
    """
    return own_role if frozen or any(own_role) else author_role


def pluralise_word(word):
    lower = word.lower()
    for singular, plural in _IRREGULAR.items():
        if lower.endswith(singular):
            return word[: len(word) - len(singular)] + _match_case(plural, word[-len(singular) :])
    if re.search(r"[^aeiou]y$", lower):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return word + "es"
    return word + "s"


def _match_case(replacement, original):
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def pluralise_title(title):
    """'Assistant Director in Clinical Quality' -> 'Assistant Directors in Clinical Quality'."""
    # The head noun comes before any comma: "Director, Clinical Quality".
    main, comma, rest = title.partition(",")
    words = main.split()
    if not words:
        return title
    head = len(words) - 1
    for index, word in enumerate(words):
        if index and word.lower() in _TITLE_BREAKS:
            head = index - 1
            break
    # "Director General", "Attorney General": the adjective follows the noun.
    if head and words[head].lower() in _POSTPOSITIVE:
        head -= 1
    words[head] = _pluralise_compound(words[head])
    return " ".join(words) + comma + rest


def _pluralise_compound(word):
    """'Editor-in-Chief' -> 'Editors-in-Chief', 'Chair-elect' -> 'Chairs-elect'."""
    parts = word.split("-")
    for index, part in enumerate(parts[1:], start=1):
        if part.lower() in _TITLE_BREAKS | _POSTPOSITIVE:
            parts[index - 1] = pluralise_word(parts[index - 1])
            return "-".join(parts)
    return pluralise_word(word)


def organisation_in_sentence(organisation):
    """'The Health Foundation' reads 'the Health Foundation' after 'at'."""
    if organisation.startswith("The "):
        return "the " + organisation[4:]
    return organisation


def describe_role(job_title, organisation, plural=False):
    job_title, organisation = job_title.strip(), organisation.strip()
    if plural and job_title:
        job_title = pluralise_title(job_title)
    if job_title and organisation:
        return f"{job_title} at {organisation_in_sentence(organisation)}"
    return job_title or organisation


def join_names(names):
    """'A', 'A and B', 'A, B and C'."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def group_credits(credits):
    """Runs of consecutive credits that share a role, in byline order."""
    groups = []
    for credit in credits:
        if groups and groups[-1][0].role_key == credit.role_key:
            groups[-1].append(credit)
        else:
            groups.append([credit])
    return groups


def byline_parts(credits):
    """
    The byline as a list of (text, credit-or-None) pieces, so templates can link names.

    Co-authors who share a role have it said once, in the plural; different roles
    each follow their own name.
    """
    credits = list(credits)
    groups = group_credits(credits)
    if not credits:
        return []
    if len(groups) == 1:
        return _group_parts(groups[0])

    # Several roles: each group is a clause; clauses with commas inside are
    # separated by semicolons so the sentence stays readable.
    clauses = [_group_parts(group) for group in groups]
    has_roles = any(group[0].role_key != ("", "") for group in groups)
    separator = "; " if has_roles and len(clauses) > 2 else ", "
    final = "; and " if separator == "; " else (", and " if has_roles else " and ")
    parts = []
    for index, clause in enumerate(clauses):
        if index:
            parts.append((final if index == len(clauses) - 1 else separator, None))
        parts.extend(clause)
    return parts


def _group_parts(group):
    parts = []
    for index, credit in enumerate(group):
        if index:
            parts.append((" and " if index == len(group) - 1 else ", ", None))
        parts.append((credit.name, credit))
    role = describe_role(group[0].job_title, group[0].organisation, plural=len(group) > 1)
    if role:
        parts.append((", " + role, None))
    return parts


def byline_text(credits):
    """The byline as plain text."""
    return "".join(text for text, _credit in byline_parts(credits))
