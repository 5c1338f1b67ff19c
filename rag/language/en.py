"""English: questions about the German article, and English documents."""

from __future__ import annotations

from rag.language.base import AnswerCues, FollowUpCues, Language, Phrases

_WORDS = frozenset

ENGLISH = Language(
    code="en",
    name="English",
    stemmer="english",
    splitter_model="en_PTB",
    function_words=_WORDS(
        """the a an and or not is are was were will would be been has have had who how what where
        when why which whom whose with from for on at by of in to into about does do did can could
        should shall may might it its they their he his she her we our you your this that these
        those there than then many much more most according say says said""".split()
    ),
    stop_word_list="STOPWORDS_EN",
    question_words=_WORDS("who whom whose what when where why which how".split()),
    phrases=Phrases(
        lead="According to the text:",
        lead_other_language="According to the text (quoted in the original language):",
        refusal="The text does not say.",
        low_lead="The text may not answer this. Closest passage:",
        low_lead_other_language=(
            "The text may not answer this. Closest passage (quoted in the original language):"
        ),
    ),
    answer_cues=AnswerCues(
        quantity_question=(
            r"how\s+many|how\s+much|how\s+high|how\s+large|how\s+long|how\s+old|"
            r"how\s+(?:wide|heavy|fast|loud|far|big|tall|deep|often|small|strong|hot|cold|quick)|"
            r"what\s+(?:percentage|share|proportion)"
        ),
        money_question=(
            r"how\s+much\s+money|how\s+much\s+(?:did|does|do|will|would)\b.*\b(?:cost|pay|invest)\w*|"
            r"what\s+(?:sum|amount\s+of\s+money)|what\s+(?:does|did|do|will)\b.*\bcost|"
            r"what\s+(?:is|was|'s)\s+the\s+(?:price|cost|fee)"
        ),
        year_question=r"(?:in\s+)?(?:what|which)\s+year",
        time_question=r"since\s+when|when|what\s+time",
        person_question=r"who|whom|whose",
        name_question=(
            r"which|(?:what\s+is|what's|whats|what\s+was)\s+the\s+(?:name|title)|name\s+of|called|"
            r"what\s+(?:company|firm|model|product|brand|project|country|city|organi[sz]ation)"
        ),
        place_question=r"where",
        reason_question=r"why|for\s+what\s+reason|how\s+come|what\s+for",
        reason_words=(
            r"because|since|therefore|reasons?|due\s+to|owing\s+to|thanks\s+to|so\s+that|"
            r"in\s+order\s+to|hence|as\s+a\s+result|that\s+is\s+why|this\s+is\s+why|caused"
        ),
        # The word after "how many" is the counted noun far more often than an adjective.
        counted_noun=r"\b[Hh]ow\s+many\s+([a-z][\w-]+)",
        generic_counted=_WORDS("percent times years months days people money".split()),
        quantity_words=(
            r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|"
            r"dozen|millions?|billions?|half|third|quarter|twice)\b|"
            r"\b(an|a|one)\s+(year|month|week|day)"
        ),
        currency_words=r"dollars?|euros?|francs?|pounds?|yen|millions?|billions?",
        months=r"january|february|march|june|july|october|december",
        year_words=r"year\w*",
        time_words=r"year\w*|decade\w*|century|since|ago|recently|today|yesterday|early|late",
    ),
    follow_up=FollowUpCues(
        continuation_starts=_WORDS("and but also so plus".split()),
        continuation_phrases=("what about", "how about", "and what", "what else"),
        strong_anaphors=_WORDS("he him she it they them there".split()),
        weak_anaphors=_WORDS(
            "his her hers its their theirs then these those thereafter afterwards former latter".split()
        ),
        demonstratives=_WORDS(["that", "this"]),
        auxiliaries=_WORDS("is was are were does did do will would can could".split()),
        existential_after_there=_WORDS("is are was were be been".split()),
        polite_pronouns=_WORDS(["I"]),
        subject_determiners=_WORDS("the these those".split()),
        own_subject_possessives=_WORDS("their its".split()),
        noun_links=_WORDS("of for in on at about with to from by".split()),
        function_words=_WORDS(
            """who whom whose what where when why how which much many the a and or but also of to on
            at by for with from about into as than not no is are were be been being do does did
            has have had would can could should shall may might must according article say says
            said tell me please there any some more else exactly you i we our your my get
            got""".split()
        ),
    ),
    not_names=_WORDS(
        """i the a an and or but if in on at of for to with by from as is are was were be this that
        these those it he she we they you his her its their our my your""".split()
    ),
    attribute_questions=(
        ("How many employees does {name} have?", ("employees", "staff", "workforce", "employs")),
        ("When was {name} founded?", ("founded", "established", "foundation", "founder")),
        ("Who founded {name}?", ("founded", "established", "founder")),
        ("What is the annual revenue of {name}?", ("revenue", "turnover", "sales")),
        ("Where is {name} headquartered?", ("headquarters", "headquartered", "based")),
        ("Who is the CEO of {name}?", ("ceo", "chief", "head", "leads", "runs", "director", "chairman")),
    ),
)
