"""Word lists of languages without a module of their own.

A question may come in any language the encoder reads, so a few cues are known for more
languages than have a :class:`~rag.language.base.Language` module: how to ask for a summary,
bm25s's stop word list, Tesseract's model. A language that gets its own module takes its
entries from here into that module.
"""

from __future__ import annotations

from rag.language.base import OverviewCues

_WORDS = frozenset

# How each asks for a summary or what the text is about, and the words that may stand beside.
OVERVIEW: dict[str, OverviewCues] = {
    "fr": OverviewCues(
        requests=("résumé", "résume", "résumer", "resume", "résumez", "resumez", "de quoi parle",
                  "de quoi s'agit", "de quoi il s'agit", "de quoi traite", "aperçu"),
        fillers=_WORDS(
            """le la les l' ce cet cette un une du de des texte article document court courte brève bref
            quelques phrases mots s'il te vous plaît plait peux pouvez tu me moi en donne donnez fais
            faites""".split()
        ),
        elisions=("l", "d", "s", "qu", "c", "j", "n", "m", "t"),
    ),
    "es": OverviewCues(
        requests=("resumen", "resumir", "resume", "resúmeme", "de qué trata", "de que trata", "de qué habla"),
        fillers=_WORDS(
            """el los las este esta un una del texto artículo documento breve corto corta pocas frases
            palabras por favor puedes hazme dame en""".split()
        ),
    ),
    "it": OverviewCues(
        requests=("riassunto", "riassumi", "riassumere", "sintesi", "di cosa parla", "di che cosa parla",
                  "di cosa tratta"),
        fillers=_WORDS(
            "il lo questo questa testo articolo breve poche frasi parole per favore puoi fammi dammi".split()
        ),
        elisions=("dell", "dall", "all", "nell", "sull"),
    ),
    "pt": OverviewCues(
        requests=("resumo", "resuma", "sobre o que é", "do que trata"),
        fillers=_WORDS("o os um uma do da artigo texto".split()),
    ),
    "nl": OverviewCues(
        requests=("samenvatting", "samenvatten", "vat samen", "waar gaat", "waarover gaat"),
        fillers=_WORDS(
            "het deze een tekst artikel kort korte alsjeblieft graag in enkele zinnen ten over".split()
        ),
    ),
    "pl": OverviewCues(
        requests=("podsumowanie", "podsumuj", "streszczenie", "streść", "o czym jest", "o czym jest tekst"),
        fillers=_WORDS("artykuł krótkie krótko proszę w kilku zdaniach".split()),
    ),
    "ru": OverviewCues(
        requests=("резюме", "кратко", "краткое содержание", "перескажи", "о чём", "о чем"),
        fillers=_WORDS(
            "текст статья статьи текста пожалуйста коротко в нескольких предложениях этот эта про".split()
        ),
    ),
    "tr": OverviewCues(
        requests=("özet", "özetle", "özetler", "ne hakkında"),
        fillers=_WORDS("bu metin metni makale makaleyi kısa lütfen birkaç cümlede".split()),
    ),
    "ar": OverviewCues(
        requests=("ملخص", "لخص", "تلخيص", "عن ماذا"),
        fillers=_WORDS("النص المقال هذا من فضلك باختصار".split()),
    ),
    "ja": OverviewCues(
        requests=("要約", "概要", "まとめ", "何について"),
        unspaced_fillers=("この", "記事", "文章", "テキスト", "を", "して", "ください", "の", "は", "ですか",
                          "簡単に"),
    ),
    "ko": OverviewCues(
        requests=("요약", "무엇에 관한"),
        unspaced_fillers=("이", "기사", "글", "텍스트", "를", "을", "해줘", "해 주세요", "주세요", "은", "는",
                          "입니까"),
    ),
    "zh": OverviewCues(
        requests=("总结", "摘要", "概括", "总结一下", "讲什么", "关于什么"),
        unspaced_fillers=("这篇文章", "这篇", "文章", "本文", "文本", "这个", "一下", "请", "的", "内容",
                          "了", "吗", "是"),
    ),
    "th": OverviewCues(
        requests=("สรุป",),
        unspaced_fillers=("บทความ", "นี้", "ข้อความ", "ให้", "หน่อย", "ครับ", "ค่ะ"),
    ),
}

# bm25s's stop word lists: a question in one of these languages still has its function words
# told from its content words (word coverage, rag/index/words.py).
STOP_WORD_LISTS = {
    "fr": "STOPWORDS_FRENCH", "es": "STOPWORDS_SPANISH", "it": "STOPWORDS_ITALIAN",
    "pt": "STOPWORDS_PORTUGUESE", "nl": "STOPWORDS_DUTCH", "ru": "STOPWORDS_RUSSIAN",
    "tr": "STOPWORDS_TURKISH", "da": "STOPWORDS_DANISH", "sv": "STOPWORDS_SWEDISH",
    "no": "STOPWORDS_NORWEGIAN", "nb": "STOPWORDS_NORWEGIAN",
}

# Tesseract's models for scanned pages.
TESSERACT = {"fr": "fra", "es": "spa", "it": "ita", "nl": "nld", "pt": "por", "pl": "pol", "ru": "rus",
             "tr": "tur"}
