"""German: the bundled article's language (Swiss spelling: "ss", never "ß")."""

from __future__ import annotations

from rag.language.base import AnswerCues, FollowUpCues, Language, LayoutCues, OverviewCues, Phrases
from rag.language.nouns import NounLexicon, wiktionary_table

_WORDS = frozenset
# Words that state a cause or a purpose: the "why?" follow-up looks for them next to the
# previous answer (FollowUpCues.causal), the answer slot of a why-question in the sentence
# (AnswerCues.reason_words, with a few more).
_CAUSAL = (
    r"weil|denn|deshalb|daher|darum|deswegen|grund|gründe|wegen|aufgrund|dank|sodass|damit|"
    r"um\b[^.]{1,80}\bzu"
)


def _wiktionary_nouns() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """The `german-nouns` package's Wiktionary list (read at index build only)."""
    from german_nouns.config import CSV_FILE_PATH

    return wiktionary_table(
        CSV_FILE_PATH, ("Toponym", "Nachname", "Vorname", "Eigenname", "Straßenname"), "Vorname", "Toponym"
    )


# The gist of the text as a whole: whole-question patterns ({text}: a word naming the text).
_OVERVIEW_PATTERNS = (
    r"worum geht(?: es|'s)?(?: (?:im|in|bei) {text}| hier| da)?",
    r"um was geht(?: es|'s)?(?: (?:im|in) {text}| hier)?",
    r"was ist (?:das )?(?:thema|das thema|der inhalt|die kernaussage|die hauptaussage)"
    r"(?: (?:des|der|dieses) \w+)?",
    r"(?:was steht|was steht drin|was sagt) (?:im|in) {text}(?: drin)?",
    r"(?:kannst du |können sie |bitte )?(?:fasse?|fass) (?:mir )?{text} (?:kurz )?zusammen(?: bitte)?",
    r"(?:kannst du |können sie )?(?:mir )?{text} (?:kurz )?zusammenfassen(?: bitte)?",
    r"(?:kurze |eine )?zusammenfassung(?: (?:des|der|vom) \w+)?(?: bitte)?",
    r"(?:gib mir )?(?:einen )?(?:kurzen )?(?:überblick|ueberblick)(?: (?:über|ueber) {text})?(?: bitte)?",
    r"(?:was ist )?(?:die |der )?(?:kernaussage|hauptthema|inhalt)(?: des \w+)?",
    r"wovon handelt {text}",
    r"(?:wovon|worüber|worueber) (?:handelt|berichtet|spricht|schreibt) {text}",
)

GERMAN = Language(
    code="de",
    name="German",
    stemmer="german",
    splitter_model="de_CMC",
    function_words=_WORDS(
        """der die das den dem des ein eine einer eines einem einen und oder nicht ist sind war
        waren wird werden wurde hat haben hatte wer wie was wo wann warum wieso weshalb welche
        welcher welches wem wen wessen woher wohin womit wofür worauf wieviel wieviele viele
        mit von für auf aus bei nach über unter zum zur im am vom ins auch noch schon nur sich
        sie er es wir ihr ihre sein seine kann können soll sollen will wollen dass als zu gibt
        laut gemäss gemäß bis seit durch gegen ohne um denn doch sehr mehr welchen""".split()
    ),
    distinctive_letters="äöüß",
    stop_word_list="STOPWORDS_GERMAN",
    question_words=_WORDS(
        "wer wen wem wessen was wann wo woher wohin warum wieso weshalb wie welche welcher welches "
        "welchen welchem womit wofür worauf woran worin wovon wozu".split()
    ),
    phrases=Phrases(
        lead="Laut dem Text:",
        lead_other_language="Laut dem Text (im Original zitiert):",
        refusal="Dazu sagt der Text nichts.",
        low_lead="Der Text sagt das nicht direkt. Am nächsten kommt:",
        low_lead_other_language="Der Text sagt das nicht direkt. Am nächsten kommt (im Original zitiert):",
        overview_of="Überblick über",
        sections="Abschnitte",
        no_lead_or_sections="Das Dokument hat weder Einleitung noch Abschnitte.",
        reason_lead="Als Grund nennt der Text:",
        no_reason="Einen Grund dafür nennt der Text nicht.",
        chosen_refusal_one="Dazu sagt das gewählte Dokument nichts.",
        chosen_refusal_many="Dazu sagen die gewählten Dokumente nichts.",
    ),
    overview=OverviewCues(
        patterns=_OVERVIEW_PATTERNS,
        text_determiners=("der", "die", "das", "dem", "den", "diese[rnms]?"),
        text_words=("text", "artikel", "dokument", "beitrag", "bericht", "dokumente", "artikels", "textes",
                    "dokuments", "seite"),
        requests=(
            "zusammenfassung", "zusammenfassen", "zusammenfasst", "fasse zusammen", "fass zusammen",
            "überblick", "ueberblick", "übersicht", "kernaussage", "kernaussagen", "worum geht es",
            "worum gehts", "worum geht's", "um was geht es", "wovon handelt", "worüber",
        ),
        fillers=_WORDS(
            """der die das den dem des diese dieser diesen dieses dokument dokuments dokumente text
            textes texte artikel artikels beitrag bericht inhalt inhalts bitte mir mal doch kurz kurze
            kurzen kurzes knapp knappe eine einen ein einer in wenigen paar einigen sätzen sätze satz
            worten gib geben kannst können könntest sie du mach schreib schreibe geht es hier im da ist
            was""".split()
        ),
    ),
    layout=LayoutCues(
        page_words=("seite",), page_of_words=("von",), heading_styles=(r"überschrift \d", "titel")
    ),
    tesseract="deu",
    answer_cues=AnswerCues(
        quantity_question=(
            r"wie\s+viele?n?(?!\s+uhr)|wieviele?n?(?!\s+uhr)|wie\s+hoch|wie\s+gro(?:ss|ß)|wie\s+lange|wie\s+alt|"
            r"wie\s+(?:schwer|laut|schnell|breit|weit|tief|oft|schwach|stark|warm|kalt|klein|lang)|"
            r"welche[mnrs]?\s+(?:anteil|summe|betrag)"
        ),
        money_question=r"wie\s+viel\s+geld|welche[mnrs]?\s+(?:summe|betrag)|wie\s+teuer|was\s+kostet\w*",
        year_question=r"in\s+welchem\s+jahr|welche[ms]?\s+jahr",
        time_question=r"seit\s+wann|wann|um\s+wie\s*viel\s+uhr|wie\s+spät",
        person_question=r"wer|wem|wen|wessen",
        name_question=(
            r"welche[mnrs]?|wie\s+hei(?:ss|ß)(?:t|en)|wie\s+hie(?:ss|ß)(?:en)?|wie\s+lautet|"
            r"wie\s+nenn(?:t|en)|wie\s+nannten?|was\s+für\s+(?:ein|eine|einen)"
        ),
        place_question=r"wo|wohin|woher",
        reason_question=r"warum|wieso|weshalb|weswegen|aus\s+welchem\s+grund|wozu",
        reason_words=_CAUSAL + r"|gründen|folglich|zumal",
        # Nouns are capitalised, adjectives before them not: "wie viele neue Mitarbeiter".
        counted_noun=(
            r"\b(?:[Ww]ie\s+viele?n?|[Ww]ieviele?n?)\s+(?:[a-zäöü]\w*\s+)?([A-ZÄÖÜ]\w+)|"
            r"\b[Ww]ie\s+(?:hoch|gro(?:ss|ß)|lang|teuer|alt|schwer)\s+(?:ist|war|sind|waren)\s+"
            r"(?:der|die|das|den)\s+(?:[a-zäöü]\w*\s+)?([A-ZÄÖÜ]\w+)"
        ),
        # The second line: words for a measure itself ("Wie hoch ist die Anzahl ...").
        generic_counted=_WORDS(
            "prozent mal jahre jahren monate monaten tage tagen leute menschen geld "
            "anzahl zahl prozentsatz anteil menge grösse größe höhe wert betrag summe bevölkerung".split()
        ),
        # Inflected forms only: "weniger streng" (less strict) and "keineswegs" are no quantities.
        quantity_words=(
            r"\b(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreissig|dreißig|"
            r"hundert|tausend|dutzend|millionen?|milliarden?|billionen?|hälfte|drittel|viertel|"
            r"doppelt|dreimal|viermal|zweimal|zahlreiche[nmrs]?|mehrere[nmrs]?|einige[nmrs]?|"
            r"wenige[nm]?|keine[nmrs]?|kein)\b|\w+mal\b|\w*fach\w*|"
            r"\b(ein|eine|einem)\s+(jahr|monat|woche|tag)"
        ),
        currency_words=r"dollar|euro|franken|yen|pfund|millionen|milliarden|billionen|mio|mrd",
        months=(
            r"januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember"
        ),
        year_words=r"jahr\w*",
        time_words=(
            r"jahr\w*|jahrzehnt\w*|jahrhundert\w*|jahrtausend\w*|damals|seit\w*|kürzlich|bisher|"
            r"bis\s+anhin|heute|gestern|früh\w*"
        ),
    ),
    follow_up=FollowUpCues(
        continuation_starts=_WORDS("und aber also so auch sowie plus".split()),
        continuation_phrases=(
            "und was", "was ist mit", "wie ist es mit", "wie steht es mit", "und wie", "was noch",
            "sonst noch",
        ),
        strong_anaphors=_WORDS("er ihm ihn sie dort dorthin ebenda".split()),
        weak_anaphors=_WORDS(
            """sein seine seinem seinen seiner seines ihr ihre ihrem ihren ihrer ihres deren dessen
            es damals dann danach davor davon dafür dazu dabei darüber darauf daran dadurch dies
            diese dieser dieses diesem diesen jene jener jenes dortige dortigen derselbe dieselbe
            dasselbe""".split()
        ),
        demonstratives=_WORDS(["das"]),
        article_demonstratives=_WORDS(["das"]),
        article_followers=_WORDS(
            """der die das den dem des ein eine viel viele mehr so wie nicht kein keine es man sich
            ist sind war waren wird werden wurde wurden hat haben hatte hatten kann können soll
            sollen will wollen muss müssen gibt gab auch noch nur schon eigentlich genau""".split()
        ),
        impersonal_verbs=_WORDS("gibt gab geben geht ging handelt kommt heisst heißt".split()),
        polite_pronouns=_WORDS(["Sie", "Ihr", "Ihre", "Ihnen"]),
        clause_joins=_WORDS(["und", "oder"]),
        impersonal_pronouns=_WORDS(["es"]),
        why_words=_WORDS(["warum", "wieso", "weshalb", "weswegen"]),
        why_leads=_WORDS(["und", "aber", "so", "also"]),
        why_fillers=_WORDS("das denn so ist eigentlich genau nicht es dies war sind".split()),
        causal=_CAUSAL,
        function_words=_WORDS(
            """wer wen wem wessen was wo wohin woher wann wie warum weshalb wieso welche welcher
            welches welchem welchen womit wofür wovon wozu worüber worauf wovor woran wodurch viel
            viele der die das den dem des ein eine einer eines einem einen und oder aber auch noch
            nur schon mit von vom zu zum zur in im an am auf aus bei beim für über unter nach vor
            seit bis um gegen durch ohne als so nicht kein keine es man sich ist sind war waren
            wird werden wurde wurden hat haben hatte hatten kann können soll sollen will wollen
            muss müssen gibt gab laut text artikel denn eigentlich genau mehr dass daß ob bitte
            sagt sagen steht genannt""".split()
        ),
    ),
    not_names=_WORDS("ich du er sie es wir ihr ihnen ihm ihn ihre ihrer ihren seine seiner seinen".split()),
    capitalises_nouns=True,
    nouns=NounLexicon(
        _wiktionary_nouns,
        links=("", "s", "es", "n", "en", "e", "er"),
        # Endings that make nouns of verbs and adjectives ("Verlässlichkeit", "Ausprobieren").
        noun_suffix=r"(?:keit|heit|ung|schaft|tät|ismus|nis|tion)(?:en|s)?$|[a-zäöü]{5}en$",
    ),
    attribute_questions=(
        ("Wie viele Mitarbeiter hat {name}?",
         ("mitarbeiter", "mitarbeitende", "beschäftigte", "angestellte")),
        ("Wann wurde {name} gegründet?", ("gegründet", "gründung", "gründete", "gründer")),
        ("Wer hat {name} gegründet?", ("gegründet", "gründung", "gründete", "gründer")),
        ("Wie hoch ist der Umsatz von {name}?", ("umsatz", "umsätze", "erlös")),
        ("Wo hat {name} seinen Hauptsitz?", ("hauptsitz", "sitz", "zentrale")),
        ("Wer ist der Chef von {name}?",
         ("chef", "chefin", "leiter", "leiterin", "leitet", "ceo", "vorsitzender")),
    ),
)
