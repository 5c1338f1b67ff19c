"""English: questions about the German article, and English documents."""

from __future__ import annotations

from rag.language.base import AnswerCues, FollowUpCues, Language, LayoutCues, OverviewCues, Phrases

_WORDS = frozenset
# Words that state a cause or a purpose: the "why?" follow-up looks for them next to the
# previous answer (FollowUpCues.causal), the answer slot of a why-question in the sentence
# (AnswerCues.reason_words, with a few more).
_CAUSAL = (
    r"because|since|therefore|reasons?|due to|thanks to|so that|in order to|hence|that is why|"
    r"this is why|as a result"
)

# The gist of the text as a whole: whole-question patterns ({text}: a word naming the text).
_OVERVIEW_PATTERNS = (
    r"what(?: is|s|'s) (?:this|it|{text})(?: all)? about",
    r"what(?: is|s|'s) the (?:main )?(?:topic|gist|point|subject)(?: of {text})?",
    r"what does {text} (?:say|cover|discuss|talk about)",
    r"(?:please |can you |could you )?summari[sz]e(?: {text})?(?: for me)?(?: please)?",
    r"(?:give me )?(?:a )?(?:short |brief |quick )?(?:summary|overview|tl ?dr|tldr)(?: of {text})?"
    r"(?: please)?",
    r"what (?:is|are) (?:{text}) (?:mainly |mostly )?about",
    r"(?:tell me )?what (?:this|the text|the article) is about",
)

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
        overview_of="Overview of",
        sections="Sections",
        no_lead_or_sections="The document has neither a lead nor sections.",
        reason_lead="The text gives this reason:",
        no_reason="The text gives no reason for this.",
        chosen_refusal_one="The chosen document does not say.",
        chosen_refusal_many="The chosen documents do not say.",
    ),
    overview=OverviewCues(
        patterns=_OVERVIEW_PATTERNS,
        text_determiners=("this", "the", "that"),
        text_words=("text", "article", "document", "story", "texts", "documents", "page", "paper"),
        requests=(
            "summary", "summarize", "summarise", "overview", "gist", "tl dr", "tldr", "what is it about",
            "what's it about", "what is this about", "what is the text about", "what is the article about",
            "key points", "main points",
        ),
        fillers=_WORDS(
            """the a an this that these text texts article articles document documents page paper story
            report please me give can could would you write make short brief quick few sentences
            sentence words in of for about is it what are what's main""".split()
        ),
    ),
    layout=LayoutCues(page_words=("page",), page_of_words=("of",), heading_styles=("title", r"heading \d")),
    tesseract="eng",
    place_names=_WORDS("tokyo japan china europe germany america usa us".split()),
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
            _CAUSAL + r"|due\s+to|owing\s+to|thanks\s+to|so\s+that|in\s+order\s+to|as\s+a\s+result|"
            r"that\s+is\s+why|this\s+is\s+why|caused"
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
        possessives=_WORDS("his her its their".split()),
        clause_joins=_WORDS(["and", "or"]),
        cleft_pronouns=_WORDS(["it"]),
        cleft_words=_WORDS(["that", "who", "which"]),
        existential_adverbs=_WORDS(["there"]),
        why_words=_WORDS(["why", "wherefore"]),
        why_leads=_WORDS(["and", "but", "so"]),
        why_fillers=_WORDS("that is this then exactly not it was the case".split()),
        causal=_CAUSAL,
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
