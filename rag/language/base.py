"""What the pipeline needs to know about one language, in one object.

Every word list, pattern and phrase that depends on the language lives in the language's own
module (``de.py``, ``en.py``) as one :class:`Language`; adding a language is adding one file and
registering it in ``rag/language/__init__.py``. Code elsewhere never tests ``language == "de"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.language.nouns import NounLexicon


@dataclass(frozen=True)
class Phrases:
    """The framing words around quoted sentences (the quotes themselves stay verbatim)."""

    lead: str
    lead_other_language: str
    refusal: str
    # A "low" answer: the closest passage, which may not answer (rag/answer/compose.py).
    low_lead: str = ""
    low_lead_other_language: str = ""
    # An overview ("Worum geht es?", rag/answer/overview.py): "Overview of «title»", the word
    # before the section headings, and what a document without lead or sections gets.
    overview_of: str = ""
    sections: str = ""
    no_lead_or_sections: str = ""
    # "Why?" after an answer: the lead before the cited reason, or that the text gives none.
    reason_lead: str = ""
    no_reason: str = ""
    # A refusal when only chosen documents were searched (one document, several).
    chosen_refusal_one: str = ""
    chosen_refusal_many: str = ""


@dataclass(frozen=True)
class OverviewCues:
    """How a question asks for the gist of the text as a whole (``rag/answer/overview.py``).

    ``patterns`` are whole-question regular expressions over the question lower-cased without
    punctuation, ``{text}`` standing for a word naming the text (``text_words``, after one of
    ``text_determiners``). ``requests`` are words and phrases that ask for a summary in any
    phrasing; ``fillers`` may stand beside them (the text, politeness, length); ``elisions``
    are articles written onto the next word ("l'article"). ``unspaced_fillers`` are removed as
    strings in scripts written without spaces."""

    patterns: tuple[str, ...] = ()
    text_determiners: tuple[str, ...] = ()
    text_words: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    fillers: frozenset[str] = frozenset()
    elisions: tuple[str, ...] = ()
    unspaced_fillers: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayoutCues:
    """Words of a document's layout: a page-number line ("Seite 3 von 10", "page 3 of 10") and
    the names Word gives heading styles in this language (regular-expression pieces)."""

    page_words: tuple[str, ...] = ()
    page_of_words: tuple[str, ...] = ()
    heading_styles: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerCues:
    """Regular-expression pieces (alternatives, no outer group) for what a question asks for and
    what a sentence can answer with; ``rag/answer/answer_type.py`` joins them over languages."""

    quantity_question: str = ""
    money_question: str = ""
    year_question: str = ""
    time_question: str = ""
    # The noun counted or measured ("Wie viele Mitarbeiter", "Wie hoch ist das Bussgeld"), as a
    # pattern with one or two groups; "" where the language has no such cue.
    counted_noun: str = ""
    # Nouns so generic that the answer sentence rarely repeats them.
    generic_counted: frozenset[str] = frozenset()
    quantity_words: str = ""  # number words and counting phrases in a sentence
    currency_words: str = ""
    months: str = ""
    year_words: str = ""
    time_words: str = ""
    # What else a question can ask for: a person ("Wer leitet ..."), a name ("Welches Modell
    # ...", "Wie heisst ..."), a place ("Wo ...").
    person_question: str = ""
    name_question: str = ""
    place_question: str = ""
    # A question for a cause or a purpose ("Warum ...?"), and what a sentence that gives one
    # says ("weil", "because"): a confident answer to "why" must hold a reason.
    reason_question: str = ""
    reason_words: str = ""


@dataclass(frozen=True)
class FollowUpCues:
    """Words that tell a follow-up question from one that stands on its own
    (``rag/query/followup.py``)."""

    continuation_starts: frozenset[str] = frozenset()
    continuation_phrases: tuple[str, ...] = ()
    strong_anaphors: frozenset[str] = frozenset()
    weak_anaphors: frozenset[str] = frozenset()
    # Demonstratives that are pronouns only when they stand alone ("Wann war das?").
    demonstratives: frozenset[str] = frozenset()
    # Demonstratives that double as an article ("das DFKI"); what may follow them as an article.
    article_demonstratives: frozenset[str] = frozenset()
    article_followers: frozenset[str] = frozenset()
    auxiliaries: frozenset[str] = frozenset()  # "What does that mean?": pronoun after these
    impersonal_verbs: frozenset[str] = frozenset()  # "gibt es": "es" refers to nothing
    existential_after_there: frozenset[str] = frozenset()  # "there is": no place
    polite_pronouns: frozenset[str] = frozenset()  # capitalised "Sie" is the reader
    function_words: frozenset[str] = frozenset()  # never topic words
    # A question that names its own subject with a determiner ("Why are the telecom companies
    # building their own models?"): these possessives then point to that subject, not back,
    # unless a linking word stands right before them ("the role of its founder").
    subject_determiners: frozenset[str] = frozenset()
    own_subject_possessives: frozenset[str] = frozenset()
    noun_links: frozenset[str] = frozenset()
    # Possessives that come before the thing they belong to ("his company"): before every name
    # of the question they cannot point into it.
    possessives: frozenset[str] = frozenset()
    # "and"/"und" between two clauses of one question: a pronoun after it points to what the
    # first clause named.
    clause_joins: frozenset[str] = frozenset()
    # A cleft "What is it that ...": this pronoun before one of these words announces what follows.
    cleft_pronouns: frozenset[str] = frozenset()
    cleft_words: frozenset[str] = frozenset()
    # "there is": this adverb before or after an existential verb points to no place.
    existential_adverbs: frozenset[str] = frozenset()
    # "gibt es": this pronoun next to an impersonal verb refers to nothing.
    impersonal_pronouns: frozenset[str] = frozenset()
    # A bare "why" follow-up ("Und warum?", "Why is that?"): the why-words, what may lead them
    # and what may follow them.
    why_words: frozenset[str] = frozenset()
    why_leads: frozenset[str] = frozenset()
    why_fillers: frozenset[str] = frozenset()
    # A sentence that gives a cause or a purpose: regular-expression alternatives.
    causal: str = ""


@dataclass(frozen=True)
class Language:
    """One language: detection, analysis, splitting, answer cues, follow-ups and phrases.

    Example::

        from rag.language import get_language
        get_language("de").phrases.refusal   # 'Dazu sagt der Text nichts.'
    """

    code: str
    name: str
    # Snowball stemmer name for PyStemmer; None: words are matched unstemmed.
    stemmer: str | None
    # SoMaJo model that splits this language's sentences with character offsets.
    splitter_model: str
    # Frequent function words: counting them tells short questions' language apart.
    function_words: frozenset[str]
    # Letters only this language uses; break a tie in the function-word count.
    distinctive_letters: str = ""
    # Name of bm25s's stop word list for the language (``bm25s.stopwords.<name>``), read lazily.
    stop_word_list: str = ""
    question_words: frozenset[str] = frozenset()
    phrases: Phrases = field(default_factory=lambda: Phrases("", "", ""))
    answer_cues: AnswerCues = field(default_factory=AnswerCues)
    follow_up: FollowUpCues = field(default_factory=FollowUpCues)
    # Capitalised words that are never names (pronouns, articles).
    not_names: frozenset[str] = frozenset()
    # German capitalises every noun, so a capital says nothing about a name there: names are
    # told from nouns with a noun list (rag/index/names.py).
    capitalises_nouns: bool = False
    # The language's noun list (common nouns, compounds, given names and places), if it has one.
    nouns: NounLexicon | None = None
    # Place names the text's own words cannot tell (a language without a noun list).
    place_names: frozenset[str] = frozenset()
    overview: OverviewCues = field(default_factory=OverviewCues)
    layout: LayoutCues = field(default_factory=LayoutCues)
    # Tesseract's model for OCR of scanned pages in this language ("" : none).
    tesseract: str = ""
    # Whether its cues (stop and function words, question and answer cues, follow-up words,
    # names) apply to questions and texts in every language, as German's and English's do (the
    # article's questions mix them); False: only to its own, so adding it changes nothing for
    # the others.
    shares_cues: bool = True
    # Questions about an attribute a text may never give, for training on on-topic questions
    # the text cannot answer (rag/eval/synthetic.py): a template with ``{name}`` and the words
    # whose absence from the text makes it unanswerable.
    attribute_questions: tuple[tuple[str, tuple[str, ...]], ...] = ()
