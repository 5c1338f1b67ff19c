"""What the pipeline needs to know about one language, in one object.

Every word list, pattern and phrase that depends on the language lives in the language's own
module (``de.py``, ``en.py``) as one :class:`Language`; adding a language is adding one file and
registering it in ``rag/language/__init__.py``. Code elsewhere never tests ``language == "de"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Phrases:
    """The framing words around quoted sentences (the quotes themselves stay verbatim)."""

    lead: str
    lead_other_language: str
    refusal: str
    # A "low" answer: the closest passage, which may not answer (rag/answer/compose.py).
    low_lead: str = ""
    low_lead_other_language: str = ""


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
    # Questions about an attribute a text may never give, for training on on-topic questions
    # the text cannot answer (rag/eval/synthetic.py): a template with ``{name}`` and the words
    # whose absence from the text makes it unanswerable.
    attribute_questions: tuple[tuple[str, tuple[str, ...]], ...] = ()
