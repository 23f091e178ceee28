"""``client.voices``: the voice catalogue and the user's own voices (SDK
``client.voices.list/get/update/delete/clone/localize``; seed ``voices_*``).

Where this deviates from the SDK reference, and why:

- ``list`` also takes ``q`` (search by name, description or id): the seed's
  ``voices_list`` has it and the voice picker searches with it; the SDK reference
  leaves it out. ``starting_after``/``ending_before`` are not parameters: the pager
  follows the cursor itself. ``is_starred`` is left out (the studio has no stars).
- ``list`` returns an :class:`~studio.api.resources._pagination.AsyncPager`:
  ``async for`` walks every page as the SDK's pager does, and ``await`` gathers every
  voice into a list (the SDK's async pager is awaited for its first page instead).
- ``get`` takes ``expand`` too, as the seed's ``voices_get`` does (``expand[]``): a
  voice's preview URL is only sent when asked for.
- ``update`` has no ``gender`` (the studio never sets it), and reads the voice first
  when only one of ``name``/``description`` is given, since the seed's
  ``UpdateVoiceRequest`` requires both.
- ``clone`` takes the clip as ``bytes`` and its ``filename`` apart (the SDK's
  ``core.File`` is either), and has no ``enhance`` (the seed's request has none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import quote

from studio.api._constants import MAX_PAGE_SIZE
from studio.api._http import json_body
from studio.api.models import (
    GENDERS,
    LANGUAGES,
    LOCALIZE_DIALECTS,
    LOCALIZE_LANGUAGES,
    SPEAKER_GENDERS,
    Voice,
    VoicePage,
)
from studio.api.resources._base import APIResource
from studio.api.resources._files import audio_type
from studio.api.resources._pagination import AsyncPager

#: Fields a voice can be expanded with (seed ``VoiceExpandOptions``).
VoiceExpand = Literal["preview_file_url"]


def _check_name(name: str) -> None:
    if not name.strip():
        raise ValueError("a voice needs a name; got a blank one")


def _voice_path(id: str) -> str:
    if not id:
        raise ValueError("voice id is empty")
    return f"/voices/{quote(id, safe='')}"


def _expand_params(expand: Sequence[VoiceExpand] | None) -> dict[str, Any]:
    return {"expand[]": list(expand)} if expand else {}


def _owned_voice(body: Any) -> Voice:
    """A ``VoiceMetadata`` body (clone, localize) as a :class:`Voice`: the caller made
    it, so it is theirs unless the body says otherwise."""
    voice = Voice.from_json(body)
    if isinstance(body, dict) and "is_owner" not in body:
        voice = dataclasses.replace(voice, is_owner=True)
    return voice


class VoicesResource(APIResource):
    """Voices: ``/voices`` and ``/voices/{id}``, ``/voices/clone``, ``/voices/localize``.

    Errors as :class:`~studio.api.client.CartesiaClient` lists them; a ``ValueError``
    for an argument the seed rules out is raised before anything is sent.
    """

    def list(
        self,
        *,
        q: str | None = None,
        is_owner: bool | None = None,
        gender: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        expand: Sequence[VoiceExpand] | None = None,
    ) -> AsyncPager[Voice]:
        """Voices from ``GET /voices`` (seed ``voices_list``), every page.

        ``async for voice in client.voices.list(...)`` fetches page by page (``limit``
        voices each, chained with ``starting_after=<id of the last voice>`` until
        ``has_more`` is false); ``await client.voices.list(...)`` gives them all as a
        list. ``q`` searches name, description and id; ``gender`` is one of
        :data:`~studio.api.models.GENDERS`; ``expand=["preview_file_url"]`` adds each
        voice's preview URL (fetch it with
        :meth:`~studio.api.client.CartesiaClient.fetch_bytes`).

        Raises:
            ValueError: ``limit`` outside 1-100 or an unknown ``gender`` (at the call).
            ResponseFormatError: a page claims more but repeats or is empty.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be in 1..{MAX_PAGE_SIZE}, got {limit}")
        if gender is not None and gender not in GENDERS:
            raise ValueError(f"gender must be one of {GENDERS}, got {gender!r}")
        params: dict[str, Any] = {"limit": limit}
        if q:
            params["q"] = q
        if is_owner is not None:
            params["is_owner"] = "true" if is_owner else "false"
        if gender is not None:
            params["gender"] = gender
        params.update(_expand_params(expand))
        return AsyncPager(self._http, "/voices", params, VoicePage.from_json)

    async def get(self, id: str, *, expand: Sequence[VoiceExpand] | None = None) -> Voice:
        """``GET /voices/{id}`` (seed ``voices_get``).

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such voice.
        """
        path = _voice_path(id)
        params = _expand_params(expand) or None
        response = await self._http.request("GET", path, params=params)
        return Voice.from_json(json_body(response, "GET /voices/{id}"))

    async def update(
        self, id: str, *, name: str | None = None, description: str | None = None
    ) -> Voice:
        """``PATCH /voices/{id}`` (seed ``voices_update``): rename a voice or change its
        description. The seed's ``UpdateVoiceRequest`` requires both fields, so a field
        left None is read first (``GET /voices/{id}``) and sent as it is.

        Returns:
            The updated voice (schema ``Voice``).

        Raises:
            ValueError: an empty ``id``, neither field given, or a blank ``name``
                (nothing is sent).
            NotFoundError: no such voice.
            AuthenticationError: 403, a voice you do not own (built-in or public).
        """
        path = _voice_path(id)
        body: dict[str, str] = {}
        if name is not None:
            _check_name(name)
            body["name"] = name.strip()
        if description is not None:
            body["description"] = description
        if not body:
            raise ValueError("voices.update needs a name, a description or both")
        if len(body) == 1:
            current = await self.get(id)
            body.setdefault("name", current.name)
            body.setdefault("description", current.description)
        response = await self._http.request("PATCH", path, json=body)
        return Voice.from_json(json_body(response, "PATCH /voices/{id}"))

    async def delete(self, id: str) -> None:
        """``DELETE /voices/{id}`` (seed ``voices_delete``, answered with 204).

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such voice.
            AuthenticationError: 403, a voice you do not own.
        """
        await self._http.request("DELETE", _voice_path(id))

    async def localize(
        self,
        *,
        voice_id: str,
        name: str,
        description: str,
        language: str,
        original_speaker_gender: str,
        dialect: str | None = None,
    ) -> Voice:
        """``POST /voices/localize`` (seed ``voices_localize``, body
        ``LocalizeVoiceRequest``): a new voice of yours, ``voice_id`` speaking
        ``language`` (:data:`~studio.api.models.LOCALIZE_LANGUAGES`) in ``dialect``
        (:data:`~studio.api.models.LOCALIZE_DIALECTS` of that language, or None), told
        the gender of the original speaker (:data:`~studio.api.models.SPEAKER_GENDERS`).

        Returns:
            The new voice. The seed answers ``VoiceMetadata``, which has no
            ``is_owner``; the voice is yours, so ``is_owner`` is True unless the body
            says otherwise.

        Raises:
            ValueError: an empty ``voice_id``, a blank ``name``, an unknown language,
                dialect or gender (nothing is sent).
            NotFoundError: no such source voice.
        """
        if not voice_id:
            raise ValueError("voice_id is empty")
        _check_name(name)
        if language not in LOCALIZE_LANGUAGES:
            raise ValueError(f"language must be one of {LOCALIZE_LANGUAGES}, got {language!r}")
        if original_speaker_gender not in SPEAKER_GENDERS:
            raise ValueError(f"original_speaker_gender must be one of {SPEAKER_GENDERS}, "
                             f"got {original_speaker_gender!r}")
        if dialect is not None and dialect not in LOCALIZE_DIALECTS.get(language, ()):
            allowed = LOCALIZE_DIALECTS.get(language)
            raise ValueError(
                f"dialect for {language!r} must be one of {allowed}, got {dialect!r}" if allowed
                else f"{language!r} takes no dialect (only {tuple(LOCALIZE_DIALECTS)} do), "
                     f"got {dialect!r}"
            )
        body: dict[str, str] = {
            "voice_id": voice_id,
            "name": name.strip(),
            "description": description,
            "language": language,
            "original_speaker_gender": original_speaker_gender,
        }
        if dialect is not None:
            body["dialect"] = dialect
        response = await self._http.request("POST", "/voices/localize", json=body, creates=True)
        return _owned_voice(json_body(response, "POST /voices/localize"))

    async def clone(
        self,
        clip: bytes,
        *,
        name: str,
        description: str = "",
        language: str = "en",
        base_voice_id: str | None = None,
        filename: str = "clip.wav",
    ) -> Voice:
        """``POST /voices/clone`` (seed ``voices_clone``): a new voice of yours from
        ``clip``, a whole audio file (wav, flac, mp3, ogg...; Cartesia recommends about
        5 seconds of clean speech).

        Sent as ``multipart/form-data`` with the seed's (and v4 SDK's) field names: the
        file ``clip`` (named ``filename``, its MIME type from the extension) and the
        text fields ``name``, ``description``, ``language`` and ``base_voice_id`` (left
        out when None). The seed's request has no ``mode`` field. Only retried when it
        surely was not carried out (see :meth:`~studio.api._http.HttpCore.request`).

        Returns:
            The new voice (``VoiceMetadata`` parsed as a :class:`Voice`, ``is_owner``
            True unless the body says otherwise).

        Raises:
            ValueError: an empty ``clip``, a blank ``name``, a ``language`` outside
                :data:`~studio.api.models.LANGUAGES` (nothing is sent).
            BadRequestError: the server refused the clip (undecodable, silent, too short).
            NotFoundError: no such ``base_voice_id``.
        """
        if not clip:
            raise ValueError("the clip is empty: record or import some speech first")
        _check_name(name)
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of the seed's languages, got {language!r}")
        data: dict[str, str] = {"name": name.strip(), "description": description,
                                "language": language}
        if base_voice_id is not None:
            if not base_voice_id:
                raise ValueError("base_voice_id is empty; pass None for no base voice")
            data["base_voice_id"] = base_voice_id
        files = {"clip": (filename, clip, audio_type(filename))}
        response = await self._http.request("POST", "/voices/clone", files=files, data=data,
                                            creates=True)
        return _owned_voice(json_body(response, "POST /voices/clone"))
