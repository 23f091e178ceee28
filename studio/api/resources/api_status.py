"""``client.api_status``: whether the API is up (SDK ``client.api_status.get()``)."""

from __future__ import annotations

from studio.api._http import json_body
from studio.api.models import ApiStatus
from studio.api.resources._base import APIResource


class ApiStatusResource(APIResource):
    """``GET /`` (seed ``apiStatus_get``)."""

    async def get(self) -> ApiStatus:
        """Whether the API is up, and its version.

        Raises:
            ResponseFormatError: the body is not an ``ApiInfo``; and the errors of
            :class:`~studio.api.client.CartesiaClient`.
        """
        response = await self._http.request("GET", "/")
        return ApiStatus.from_json(json_body(response, "GET /"))
