"""``POST /voices/localize`` in the offline engine: the same voice, another language.

The seed's ``LocalizeVoiceRequest`` names a source voice, the target ``language``
(``LocalizeTargetLanguage``), an optional ``dialect`` (``LocalizeDialect``: only for
en, es, pt and fr) and the ``original_speaker_gender`` (``Gender``: male/female).
The new voice keeps the source's pitch, pitch range and rate offsets and speaks through
the espeak-ng voice of the target language and dialect (:data:`DIALECT_VOICES`; espeak
has no Australian, Indian or Canadian voice, so those fall back to the nearest it has).
Its variant keeps the source's when that variant's family (``m``/``f``) matches
``original_speaker_gender``, else the same-numbered variant of the other family
(``m3`` <-> ``f3``), or, with no such twin, the variant of that family nearest in pitch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from studio.api.models import LOCALIZE_DIALECTS, LOCALIZE_LANGUAGES, SPEAKER_GENDERS
from studio.offline.cloning import VARIANT_F0_HZ, nearest_variant
from studio.offline.errors import bad_request
from studio.offline.voices import ESPEAK_LANGUAGE_VOICES, VoiceSpec

#: (language, dialect) -> espeak-ng language voice.
DIALECT_VOICES: dict[tuple[str, str], str] = {
    ("en", "us"): "en-us", ("en", "uk"): "en-gb-x-rp", ("en", "so"): "en-us",
    ("en", "au"): "en", ("en", "in"): "en",
    ("es", "mx"): "es-419", ("es", "pe"): "es",
    ("pt", "br"): "pt-br", ("pt", "eu"): "pt",
    ("fr", "eu"): "fr", ("fr", "ca"): "fr",
}
#: Dialect -> the locale reported for the voice (BCP-47).
_DIALECT_LOCALES: dict[tuple[str, str], str] = {
    ("en", "us"): "en-US", ("en", "uk"): "en-GB", ("en", "so"): "en-US",
    ("en", "au"): "en-AU", ("en", "in"): "en-IN", ("es", "mx"): "es-MX",
    ("es", "pe"): "es-ES", ("pt", "br"): "pt-BR", ("pt", "eu"): "pt-PT",
    ("fr", "eu"): "fr-FR", ("fr", "ca"): "fr-CA",
}
_GENDER_PRESENTATION = {"male": "masculine", "female": "feminine"}


@dataclass(frozen=True, slots=True)
class LocalizeRequest:
    """A validated ``LocalizeVoiceRequest``."""

    voice_id: str
    name: str
    description: str
    language: str
    original_speaker_gender: str
    dialect: str | None
    accent: str | None


def _text(body: dict[str, object], key: str, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad_request(f"{key} is required and must be a non-empty string")
    return value


def parse_localize(body: object) -> LocalizeRequest:
    """Validate a ``LocalizeVoiceRequest`` JSON body.

    Raises:
        ApiError: 400 naming the field: a missing or blank ``voice_id`` or ``name``,
            a language outside ``LocalizeTargetLanguage``, a gender outside ``Gender``,
            a dialect the language does not have.
    """
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    voice_id = _text(body, "voice_id") or ""
    name = (_text(body, "name") or "").strip()
    description = body.get("description", "")
    if not isinstance(description, str):
        raise bad_request("description must be a string")
    language = body.get("language")
    if language not in LOCALIZE_LANGUAGES:
        raise bad_request(f"language must be one of {', '.join(LOCALIZE_LANGUAGES)}; "
                          f"got {language!r}")
    gender = body.get("original_speaker_gender")
    if gender not in SPEAKER_GENDERS:
        raise bad_request(f"original_speaker_gender must be one of "
                          f"{', '.join(SPEAKER_GENDERS)}; got {gender!r}")
    dialect = body.get("dialect")
    if dialect is not None:
        allowed = LOCALIZE_DIALECTS.get(str(language), ())
        if dialect not in allowed:
            where = (f"one of {', '.join(allowed)} for {language}" if allowed
                     else f"left out for {language} (dialects exist for en, es, pt and fr)")
            raise bad_request(f"dialect must be {where}; got {dialect!r}")
    accent = body.get("accent")
    if accent is not None and not isinstance(accent, str):
        raise bad_request("accent must be a string")
    return LocalizeRequest(voice_id, name, description, str(language), str(gender),
                           dialect if isinstance(dialect, str) else None, accent)


def _variant_for(source: str, gender: str) -> str:
    family = "m" if gender == "male" else "f"
    if source.startswith(family):
        return source
    twin = family + source[1:]
    if twin in VARIANT_F0_HZ:
        return twin
    return nearest_variant(VARIANT_F0_HZ.get(source, 150.0), family)


def localized_voice(source: VoiceSpec, request: LocalizeRequest) -> VoiceSpec:
    """The new owned voice: ``source``'s pitch, range and rate in the target language
    and dialect (the module docstring's rules)."""
    key = (request.language, request.dialect or "")
    espeak_language = DIALECT_VOICES.get(key, ESPEAK_LANGUAGE_VOICES[request.language])
    locale = _DIALECT_LOCALES.get(key, request.language)
    return VoiceSpec(
        id=str(uuid.uuid4()),
        name=request.name,
        description=request.description,
        language=request.language,
        locale=locale,
        gender=_GENDER_PRESENTATION[request.original_speaker_gender],
        accent=request.accent,
        espeak_language=espeak_language,
        variant=_variant_for(source.variant, request.original_speaker_gender),
        pitch_offset=source.pitch_offset,
        range_offset=source.range_offset,
        rate_scale=source.rate_scale,
        is_owner=True,
        created_at=now_iso(),
    )


def now_iso() -> str:
    """The current UTC time as the seed's ``created_at`` (ISO 8601, ``Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
