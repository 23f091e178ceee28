"""The offline engine's built-in voices and the languages espeak-ng can speak.

Each built-in voice is an espeak-ng language voice plus a variant (``+f3``,
``+m3``... from ``espeak-ng-data/voices/!v``) and a pitch offset, exposed
through the Cartesia ``Voice`` shape (``cartesia-openapi.yaml`` ``Voice``; the
v4 SDK additionally reads ``access``, ``visibility``, ``tagline``, ``locales``
and ``accent``). Ids are fixed UUIDs so that projects keep working across runs.

Mapping (id prefix, name, espeak voice, language, gender, accent):

=========  ========  ======================  ====  ==============  ====================
id         name      espeak voice            lang  gender          accent
=========  ========  ======================  ====  ==============  ====================
091b4eea   Avery     en-us+f3                en    feminine        general-american
31152d4d   Marcus    en-us+m3                en    masculine       general-american
2204534c   Eleanor   en-gb-x-rp+f2           en    feminine        british
753ef15d   Oliver    en-gb-x-rp+m1           en    masculine       british
2fc7501c   Fiona     en-gb-scotland+f4       en    feminine        (Scottish)
09399dee   Desmond   en-029+m2               en    masculine       (Caribbean)
fb487b0d   Riley     en-us-nyc+m7            en    gender_neutral  new-york
831597e2   Camille   fr+f3                   fr    feminine        parisian
7335363c   Lukas     de+m3                   de    masculine       high-german
e34a1ab1   Lucía     es+f4                   es    feminine        castilian
028ac8f2   Giulia    it+f2                   it    feminine        italian
011e48a8   Rafael    pt-br+m1                pt    masculine       brazilian-portuguese
720faa5a   Arjun     hi+m2                   hi    masculine       hindi
=========  ========  ======================  ====  ==============  ====================

When a request asks a voice to speak another language than its own, the
engine keeps the voice's variant and pitch and swaps the espeak language voice
for :data:`ESPEAK_LANGUAGE_VOICES` ``[language]`` (cross-lingual speech, as
Cartesia does). Seed languages espeak-ng has no voice for (``tl``) are refused.

Voices made with ``POST /voices/clone`` and ``POST /voices/localize`` are
``VoiceSpec`` too, with ``is_owner`` set, a random UUID, and the pitch range and
rate a clip asked for (:mod:`studio.offline.cloning`); the catalog lists them
after the built-ins, oldest first, and :mod:`studio.offline.voice_store` keeps
them on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from studio.offline.synthesis import Voicing

#: Seed ``SupportedLanguage`` -> espeak-ng language voice (``espeak-ng-data/lang``).
ESPEAK_LANGUAGE_VOICES: dict[str, str] = {
    "en": "en-us", "fr": "fr", "de": "de", "es": "es", "pt": "pt-br", "zh": "cmn",
    "ja": "ja", "hi": "hi", "it": "it", "ko": "ko", "nl": "nl", "pl": "pl", "ru": "ru",
    "sv": "sv", "tr": "tr", "bg": "bg", "ro": "ro", "ar": "ar", "cs": "cs", "el": "el",
    "fi": "fi", "hr": "hr", "ms": "ms", "sk": "sk", "da": "da", "ta": "ta", "uk": "uk",
    "hu": "hu", "no": "nb", "vi": "vi", "bn": "bn", "th": "th", "he": "he", "ka": "ka",
    "id": "id", "te": "te", "gu": "gu", "kn": "kn", "ml": "ml", "mr": "mr", "pa": "pa",
}

#: When every built-in voice was "created": a fixed instant, so listings are stable.
CREATED_AT = "2025-01-01T00:00:00Z"
#: The ``user_id`` of owned voices: the engine has one user, whoever holds its key.
OWNER_USER_ID = "offline-user"


@dataclass(frozen=True, slots=True)
class VoiceSpec:
    """One voice: built in, or owned (cloned or localized).

    ``espeak_language`` is an espeak-ng voice name, ``variant`` the variant
    suffix without ``+`` (``"f3"``); ``pitch_offset`` and ``range_offset`` are
    added to espeak's pitch and pitch range parameters (0..100 scale) after
    delivery mapping, ``rate_scale`` multiplies the rate (words/min).
    ``created_at`` is ISO 8601 UTC; ``clip`` holds what was measured on a
    cloned voice's clip (:class:`~studio.offline.clip_analysis.ClipAnalysis`
    fields), kept for the record.
    """

    id: str
    name: str
    description: str
    language: str
    locale: str
    gender: str | None
    accent: str | None
    espeak_language: str
    variant: str
    pitch_offset: int = 0
    range_offset: int = 0
    rate_scale: float = 1.0
    is_owner: bool = False
    created_at: str = CREATED_AT
    clip: tuple[tuple[str, float], ...] = ()

    def voicing(self, language: str | None = None) -> Voicing:
        """How this voice speaks ``language`` (default: its own).

        Raises:
            KeyError: if ``language`` has no espeak-ng voice.
        """
        return Voicing(self.espeak_voice(language), self.pitch_offset, self.range_offset,
                       self.rate_scale)

    def espeak_voice(self, language: str | None = None) -> str:
        """The espeak-ng voice name for speaking ``language`` (default: own).

        Raises:
            KeyError: if ``language`` has no espeak-ng voice.
        """
        base = self.espeak_language
        if language is not None and language != self.language:
            base = ESPEAK_LANGUAGE_VOICES[language]
        return f"{base}+{self.variant}" if self.variant else base

    def to_json(
        self, preview_url: str | None = None, expand_preview: bool = False
    ) -> dict[str, Any]:
        """The ``Voice`` body; ``preview_file_url`` only when ``expand_preview``."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "tagline": self.description[:32].rstrip(" ,."),
            "language": self.language,
            "locales": [{"locale": self.locale, "is_native": True}],
            "gender": self.gender,
            "is_owner": self.is_owner,
            "is_public": not self.is_owner,
            "access": "private" if self.is_owner else "public",
            "visibility": "owner" if self.is_owner else "all",
            "created_at": self.created_at,
            "country": self.locale.split("-")[1] if "-" in self.locale else None,
        }
        if self.accent is not None:
            body["accent"] = self.accent
        if self.is_owner:
            body["user_id"] = OWNER_USER_ID  # VoiceMetadata, what clone and localize answer
        if expand_preview:
            body["preview_file_url"] = preview_url
        return body


BUILTIN_VOICES: tuple[VoiceSpec, ...] = (
    VoiceSpec("091b4eea-9078-4fee-86b0-74fd73fcf954", "Avery",
              "Bright, friendly American woman for explainers and ads.",
              "en", "en-US", "feminine", "general-american", "en-us", "f3"),
    VoiceSpec("31152d4d-118f-45ae-92b6-618d4e97dfb9", "Marcus",
              "Steady American man, a clear narrator for documentaries.",
              "en", "en-US", "masculine", "general-american", "en-us", "m3"),
    VoiceSpec("2204534c-1fe1-466e-b999-f20729e3f1ce", "Eleanor",
              "Poised British woman with a received-pronunciation accent.",
              "en", "en-GB", "feminine", "british", "en-gb-x-rp", "f2"),
    VoiceSpec("753ef15d-fe80-42e1-acde-229e9ab5961e", "Oliver",
              "Warm British man, relaxed storyteller.",
              "en", "en-GB", "masculine", "british", "en-gb-x-rp", "m1"),
    VoiceSpec("2fc7501c-01e0-4cfd-adf6-4efeea1de6dc", "Fiona",
              "Lively Scottish woman with a lilting delivery.",
              "en", "en-GB", "feminine", None, "en-gb-scotland", "f4"),
    VoiceSpec("09399dee-2a66-4737-aa9a-4f21c5e77cc9", "Desmond",
              "Easygoing Caribbean English man.",
              "en", "en-JM", "masculine", None, "en-029", "m2"),
    VoiceSpec("fb487b0d-ac75-43fb-83a9-a9714f015732", "Riley",
              "Even, gender-neutral New York voice for interfaces and tutorials.",
              "en", "en-US", "gender_neutral", "new-york", "en-us-nyc", "m7", 12),
    VoiceSpec("831597e2-8291-4da2-8130-10f645ef591d", "Camille",
              "Elegant Parisian French woman.",
              "fr", "fr-FR", "feminine", "parisian", "fr", "f3"),
    VoiceSpec("7335363c-72ce-4a8f-ab8d-55db0c2a396b", "Lukas",
              "Crisp German man speaking standard High German.",
              "de", "de-DE", "masculine", "high-german", "de", "m3"),
    VoiceSpec("e34a1ab1-a1ba-4d09-980a-385869a18971", "Lucía",
              "Expressive Castilian Spanish woman.",
              "es", "es-ES", "feminine", "castilian", "es", "f4"),
    VoiceSpec("028ac8f2-048a-4b13-a24c-05333d5bf9b2", "Giulia",
              "Warm Italian woman, great for lifestyle content.",
              "it", "it-IT", "feminine", "italian", "it", "f2"),
    VoiceSpec("011e48a8-001d-4ecf-9278-88d7a335394a", "Rafael",
              "Relaxed Brazilian Portuguese man.",
              "pt", "pt-BR", "masculine", "brazilian-portuguese", "pt-br", "m1"),
    VoiceSpec("720faa5a-3f08-4828-99f1-ba07022b4b5f", "Arjun",
              "Clear Hindi-speaking man for announcements.",
              "hi", "hi-IN", "masculine", "hindi", "hi", "m2"),
)

#: A sentence per language for preview files.
PREVIEW_SENTENCES: dict[str, str] = {
    "en": "Hello! This is how I sound when I read your script.",
    "fr": "Bonjour ! Voici ma voix quand je lis votre texte.",
    "de": "Hallo! So klinge ich, wenn ich Ihren Text lese.",
    "es": "¡Hola! Así sueno cuando leo tu guion.",
    "it": "Ciao! Ecco come suono quando leggo il tuo testo.",
    "pt": "Olá! É assim que eu soo quando leio o seu roteiro.",
    "hi": "नमस्ते! जब मैं आपकी स्क्रिप्ट पढ़ता हूँ तो मेरी आवाज़ ऐसी होती है।",
    "nl": "Hallo! Zo klink ik als ik je tekst voorlees.",
    "sv": "Hej! Så här låter jag när jag läser ditt manus.",
    "pl": "Cześć! Tak brzmię, kiedy czytam twój tekst.",
    "ru": "Привет! Так звучит мой голос, когда я читаю ваш текст.",
    "tr": "Merhaba! Metninizi okurken sesim böyle çıkıyor.",
    "ja": "こんにちは。これが台本を読むときの私の声です。",
    "zh": "你好！这是我朗读你的稿子时的声音。",
    "ko": "안녕하세요! 제가 대본을 읽을 때 이런 목소리예요.",
}


class VoiceCatalog:
    """The voices the engine serves, in listing order (stable ids): the built-ins,
    then owned voices oldest first.

    Changed only on the engine's event loop; each change swaps in new
    containers, so a reader never sees one half made.
    """

    def __init__(
        self, voices: tuple[VoiceSpec, ...] = BUILTIN_VOICES, owned: Iterable[VoiceSpec] = ()
    ) -> None:
        self._builtin = voices
        self._owned = tuple(owned)
        self._by_id = {v.id: v for v in (*self._builtin, *self._owned)}

    def __iter__(self) -> Iterator[VoiceSpec]:
        return iter((*self._builtin, *self._owned))

    def __len__(self) -> int:
        return len(self._builtin) + len(self._owned)

    def get(self, voice_id: str) -> VoiceSpec | None:
        """The voice with ``voice_id``, or None."""
        return self._by_id.get(voice_id)

    def owned(self) -> tuple[VoiceSpec, ...]:
        """The owned voices, oldest first."""
        return self._owned

    def put(self, voice: VoiceSpec) -> None:
        """Add an owned voice, or replace the owned voice with its id in place.

        Raises:
            ValueError: ``voice`` is not owned, or its id is a built-in's.
        """
        if not voice.is_owner or any(v.id == voice.id for v in self._builtin):
            raise ValueError(f"only owned voices can be added or replaced: {voice.id}")
        owned = list(self._owned)
        index = next((i for i, v in enumerate(owned) if v.id == voice.id), None)
        if index is None:
            owned.append(voice)
        else:
            owned[index] = voice
        self.set_owned(tuple(owned))

    def remove(self, voice_id: str) -> VoiceSpec | None:
        """Remove the owned voice ``voice_id``; returns it, or None if there is none."""
        voice = next((v for v in self._owned if v.id == voice_id), None)
        if voice is not None:
            self.set_owned(tuple(v for v in self._owned if v.id != voice_id))
        return voice

    def set_owned(self, owned: tuple[VoiceSpec, ...]) -> None:
        """Replace the owned voices at once, in order (to put back the last saved ones)."""
        by_id = {v.id: v for v in (*self._builtin, *owned)}
        self._owned, self._by_id = owned, by_id

    def search(
        self,
        q: str | None = None,
        gender: str | None = None,
        is_owner: bool | None = None,
        language: str | None = None,
    ) -> list[VoiceSpec]:
        """Voices matching ``GET /voices`` filters, in listing order.

        ``q`` matches name, description or id, case-insensitive substring;
        ``is_owner`` True keeps owned voices, False the built-ins; ``language``
        is a seed language code.
        """
        out = list(self)
        if q:
            needle = q.casefold()
            out = [v for v in out if needle in v.name.casefold()
                   or needle in v.description.casefold() or needle in v.id.casefold()]
        if gender:
            out = [v for v in out if v.gender == gender]
        if is_owner is not None:
            out = [v for v in out if v.is_owner == is_owner]
        if language:
            out = [v for v in out if v.language == language]
        return out


def preview_sentence(language: str) -> str:
    """A short sentence in ``language`` for previews (English if none known)."""
    return PREVIEW_SENTENCES.get(language, PREVIEW_SENTENCES["en"])
