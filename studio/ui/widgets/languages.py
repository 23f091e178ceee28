"""Language names for the studio's language choosers and voice descriptions (the Voices
panel, the recorder, the Dictionaries panel)."""

from __future__ import annotations

#: English names of the seed's ``SupportedLanguage`` codes, for language choosers.
LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "pt": "Portuguese",
    "zh": "Chinese", "ja": "Japanese", "hi": "Hindi", "it": "Italian", "ko": "Korean",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "sv": "Swedish", "tr": "Turkish",
    "tl": "Tagalog", "bg": "Bulgarian", "ro": "Romanian", "ar": "Arabic", "cs": "Czech",
    "el": "Greek", "fi": "Finnish", "hr": "Croatian", "ms": "Malay", "sk": "Slovak",
    "da": "Danish", "ta": "Tamil", "uk": "Ukrainian", "hu": "Hungarian", "no": "Norwegian",
    "vi": "Vietnamese", "bn": "Bengali", "th": "Thai", "he": "Hebrew", "ka": "Georgian",
    "id": "Indonesian", "te": "Telugu", "gu": "Gujarati", "kn": "Kannada", "ml": "Malayalam",
    "mr": "Marathi", "pa": "Punjabi",
}


def language_label(code: str) -> str:
    """``English (en)``; the bare code for a language without a name here."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code or "—"
