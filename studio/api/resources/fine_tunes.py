"""``client.fine_tunes``: professional voice cloning, a voice trained on a dataset (SDK
``client.fine_tunes.*``; seed ``fineTunes_*``).

A fine-tune is answered with status ``created`` and trained in the background
(``training``, then ``completed`` or ``failed``): poll :meth:`FineTunesResource.get`
until :attr:`~studio.api.resources.training_models.FineTune.finished`; its voices are
then listed by :meth:`FineTunesResource.list_voices` (and among the user's voices).

Where this deviates from the SDK, and why: ``retrieve`` is ``get``; ``model_id`` keeps
the seed's name (the SDK renames it ``llm_model_id``); lists return an
:class:`~studio.api.resources._pagination.AsyncPager`; ``accent`` is left out (not in
the seed). ``create`` is never sent twice: after a 5xx, a timeout or a lost connection
the fine-tunes are searched for a new one of that name on that dataset.
"""

from __future__ import annotations

from studio.api._constants import MAX_PAGE_SIZE
from studio.api._http import json_body
from studio.api.models import LANGUAGES, Voice, VoicePage
from studio.api.resources._base import APIResource
from studio.api.resources._create_once import create_once
from studio.api.resources._pagination import AsyncPager
from studio.api.resources.datasets import check_limit, id_path
from studio.api.resources.training_models import FineTune, FineTunePage


class FineTunesResource(APIResource):
    """Fine-tunes: ``/fine-tunes/``, ``/fine-tunes/{id}``, ``/fine-tunes/{id}/voices``.

    Errors as :class:`~studio.api.client.CartesiaClient` lists them; a ``ValueError``
    for an argument the seed rules out is raised before anything is sent.
    """

    def list(self, *, limit: int = MAX_PAGE_SIZE) -> AsyncPager[FineTune]:
        """Fine-tunes from ``GET /fine-tunes/`` (seed ``fineTunes_list``), every page.

        Raises:
            ValueError: ``limit`` outside 1..100 (at the call).
        """
        check_limit(limit)
        return AsyncPager(self._http, "/fine-tunes/", {"limit": limit}, FineTunePage.from_json)

    async def create(self, *, name: str, dataset: str, model_id: str, language: str = "en",
                     description: str = "") -> FineTune:
        """``POST /fine-tunes/`` (seed ``fineTunes_create``): train a voice called
        ``name`` on ``dataset`` from base model ``model_id`` (e.g.
        ``sonic-3-2025-10-27``), speaking ``language``.

        Returns:
            The fine-tune, status ``created`` (or as found after a lost answer).

        Raises:
            ValueError: a blank ``name``, empty ``dataset`` or ``model_id``, a language
                outside the seed's (nothing is sent).
            NotFoundError: no such dataset.
            BadRequestError: the dataset has no files.
            OutcomeUnknownError: the answer was lost and listing did not find it.
        """
        if not name.strip():
            raise ValueError("a fine-tune needs a name; got a blank one")
        if not dataset or not model_id.strip():
            raise ValueError("a fine-tune needs a dataset id and a base model_id")
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of the seed's languages, got {language!r}")
        clean = name.strip()
        body = {"name": clean, "description": description, "language": language,
                "model_id": model_id.strip(), "dataset": dataset}

        async def send() -> FineTune:
            response = await self._http.request("POST", "/fine-tunes/", json=body,
                                                 creates=True)
            return FineTune.from_json(json_body(response, "POST /fine-tunes/"))

        return await create_once(send, self.list,
                                 lambda t: t.name == clean and t.dataset == dataset,
                                 f"fine-tune {clean!r}")

    async def get(self, id: str) -> FineTune:
        """``GET /fine-tunes/{id}`` (seed ``fineTunes_get``): its status now.

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such fine-tune.
        """
        response = await self._http.request("GET", id_path("/fine-tunes", id, "fine-tune"))
        return FineTune.from_json(json_body(response, "GET /fine-tunes/{id}"))

    async def delete(self, id: str) -> None:
        """``DELETE /fine-tunes/{id}`` (seed ``fineTunes_delete``, 204).

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such fine-tune.
        """
        await self._http.request("DELETE", id_path("/fine-tunes", id, "fine-tune"))

    def list_voices(self, id: str, *, limit: int = MAX_PAGE_SIZE) -> AsyncPager[Voice]:
        """The voices fine-tune ``id`` made, from ``GET /fine-tunes/{id}/voices`` (seed
        ``fineTunes_listVoices``, ``PaginatedVoices``), every page.

        Raises:
            ValueError: an empty ``id`` or ``limit`` outside 1..100 (at the call).
            NotFoundError: no such fine-tune (while iterating).
        """
        check_limit(limit)
        path = id_path("/fine-tunes", id, "fine-tune") + "/voices"
        return AsyncPager(self._http, path, {"limit": limit}, VoicePage.from_json)
