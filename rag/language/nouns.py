"""A language's noun list, for telling names from common nouns where every noun is capitalised.

German capitalises every noun, so "Softbank" and "Bank" look alike; the Wiktionary list of the
`german-nouns` package tells them apart (places, surnames and given names there count as
names). Compounds of listed nouns ("Industriemetropole", "Unternehmensvorständen") are common
nouns too. The list is read once, when an index is built (rag/index/names.py).
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable


class NounLexicon:
    """Common nouns (compounds included), given names and places of one language.

    ``read`` gives (common noun forms, proper noun forms, given names, place names), case-folded;
    ``links`` are the linking morphemes between compound parts ("Unternehmen|s|vorstand");
    ``noun_suffix`` matches endings that make nouns of verbs and adjectives.

    Example::

        from rag.language import get_language
        get_language("de").nouns.is_common_noun("Industriemetropole")   # True
    """

    MIN_PART = 3  # shortest compound part looked up
    LONG_HEAD = 5  # a compound ending in a listed noun this long is a common noun

    def __init__(
        self,
        read: Callable[[], tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]],
        links: tuple[str, ...],
        noun_suffix: str,
    ) -> None:
        self._read = read
        self.links = links
        self.noun_suffix = re.compile(noun_suffix)
        self.is_common_noun = functools.lru_cache(maxsize=65536)(self._is_common_noun)

    @functools.cached_property
    def tables(self) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
        """(common noun forms, proper noun forms, given names, place names), read once."""
        return self.table()

    def table(self) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
        """The list as read (:attr:`tables` keeps it)."""
        return self._read()

    @property
    def given_names(self) -> frozenset[str]:
        return self.tables[2]

    @property
    def places(self) -> frozenset[str]:
        return self.tables[3]

    def common_among(self, words: Iterable[str]) -> frozenset[str]:
        """Those of ``words`` (capitalised) that are common nouns: one call for a whole corpus."""
        return frozenset(word for word in words if self.is_common_noun(word))

    def _is_common_noun(self, word: str) -> bool:
        """Whether a capitalised word is a common noun (compounds included)."""
        common, proper, _, _ = self.tables
        folded = word.casefold()
        if folded in common:  # "Plan" is also a place, "China" also porcelain: common wins
            return True
        if folded in proper:
            return False
        if self.noun_suffix.search(folded):
            return True
        # A compound whose last part is a listed noun: "Industrie|metropole", "Cyber|experten".
        # A short last part must follow a listed noun ("Unternehmens|vorstand"), or "Soft|bank"
        # would be a common noun.
        for cut in range(2, len(folded) - self.MIN_PART + 1):
            head = folded[cut:]
            if head not in common:
                continue
            if len(head) >= self.LONG_HEAD:
                return True
            modifier = folded[:cut]
            for link in self.links:
                if not modifier.endswith(link):
                    continue
                stem = modifier[: len(modifier) - len(link)] if link else modifier
                if len(stem) >= self.MIN_PART and stem in common:
                    return True
        return False


def wiktionary_table(
    csv_path: str, proper_kinds: tuple[str, ...], given_kind: str, place_kind: str
) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Read a Wiktionary noun table (the `german-nouns` CSV): rows whose kind column names one
    of ``proper_kinds`` are names, the others common nouns; every form column counts."""
    common: set[str] = set()
    proper: set[str] = set()
    given: set[str] = set()
    places: set[str] = set()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        form_columns = [i for i, name in enumerate(header) if i == 0 or i >= 7]
        for row in rows:
            target = proper if any(kind in row[1] for kind in proper_kinds) else common
            if given_kind in row[1]:
                given.add(row[0].casefold())
            if place_kind in row[1]:
                places.add(row[0].casefold())
            for i in form_columns:
                if i < len(row) and row[i]:
                    target.add(row[i].casefold())
    return frozenset(common), frozenset(proper), frozenset(given), frozenset(places)
