"""French: documents and questions in French.

Added after German and English, so its words stay its own (``shares_cues=False``): they are
applied to French questions and texts, and never change how a German or English one is read.
"""

from __future__ import annotations

from rag.language import other
from rag.language.base import AnswerCues, Language, Phrases

_WORDS = frozenset

FRENCH = Language(
    code="fr",
    name="French",
    stemmer="french",
    # SoMaJo has no French model; its English one splits French sentences at the same marks.
    splitter_model="en_PTB",
    # Frequent words no German or English text uses ("de", "des", "du", "son", "on" are left out:
    # they are German or English words too, or names).
    function_words=_WORDS(
        """le la les et est une dans pour pas qui que sur avec aux ce cette ces sont été être ou
        mais leur leurs nous vous ils elles quel quelle quels quelles combien pourquoi où quand
        selon entre depuis chez très aussi ont était sa ses""".split()
    ),
    stop_word_list="STOPWORDS_FRENCH",
    question_words=_WORDS(
        "qui que quoi quel quelle quels quelles lequel laquelle lesquels lesquelles où quand comment "
        "combien pourquoi".split()
    ),
    phrases=Phrases(
        lead="D'après le texte :",
        lead_other_language="D'après le texte (cité dans la langue d'origine) :",
        refusal="Le texte ne le dit pas.",
        low_lead="Le texte ne répond peut-être pas à cette question. Passage le plus proche :",
        low_lead_other_language=(
            "Le texte ne répond peut-être pas à cette question. Passage le plus proche (cité dans la "
            "langue d'origine) :"
        ),
        overview_of="Aperçu de",
        sections="Sections",
        no_lead_or_sections="Le document n'a ni introduction ni sections.",
        reason_lead="Le texte donne cette raison :",
        no_reason="Le texte n'en donne pas la raison.",
        chosen_refusal_one="Le document choisi ne le dit pas.",
        chosen_refusal_many="Les documents choisis ne le disent pas.",
    ),
    answer_cues=AnswerCues(
        quantity_question=(
            r"combien|quel(?:le)?\s+(?:est\s+)?(?:le\s+|la\s+)?(?:nombre|part|pourcentage|proportion|montant)"
        ),
        money_question=r"combien\s+(?:d'argent|coûte\w*|a\s+coûté)|quel\s+(?:est\s+le\s+)?montant",
        year_question=r"en\s+quelle\s+année|quelle\s+année",
        time_question=r"depuis\s+quand|quand|à\s+quelle\s+date",
        person_question=r"qui",
        name_question=r"quel(?:le)?s?|comment\s+s'appelle\w*",
        place_question=r"où",
        quantity_words=(
            r"\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|vingt|trente|cent|mille|"
            r"millions?|milliards?|moitié|tiers|quart|double)\b"
        ),
        currency_words=r"euros?|dollars?|francs?|livres?|yens?|millions?|milliards?",
        months=r"janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre",
        year_words=r"an(?:s|née|nées)?",
        time_words=r"an(?:s|née|nées)?|décennie\w*|siècle\w*|depuis|aujourd'hui|hier|récemment",
    ),
    overview=other.OVERVIEW["fr"],
    tesseract=other.TESSERACT["fr"],
    shares_cues=False,
)
