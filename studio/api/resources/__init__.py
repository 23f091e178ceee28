"""The client's resources: one module per API area, as the official SDK groups its
methods (``client.voices.list()``, ``client.tts.bytes(...)``).

Each resource is an :class:`~studio.api.resources._base.APIResource` built lazily on
:class:`~studio.api.client.CartesiaClient` (a ``cached_property`` named as the SDK
names the area) over the client's shared transport, which does auth, retries,
deadlines and error mapping. A resource keeps no state and opens no connections.

To add one (``agents``, ``auth``),
copy :mod:`studio.api.resources.voices`:

1. ``studio/api/resources/<area>.py`` with ``class <Area>Resource(APIResource)``; its
   methods and parameters are named as in the SDK reference, and the module docstring
   lists where they deviate and why. Check arguments before sending (``ValueError``),
   send with ``self._http.request(...)`` (``creates=True`` for a request that makes
   something, so it is never sent twice), parse the body with ``json_body`` into a
   model of :mod:`studio.api.models`. Lists return an
   :class:`~studio.api.resources._pagination.AsyncPager`; uploads name their parts
   with :func:`~studio.api.resources._files.audio_type`.
2. A ``cached_property`` for it on ``CartesiaClient`` and an export below.
3. Tests in ``tests/api/resources/test_<area>.py``: the wire shape over
   ``httpx.MockTransport`` and a round trip against the offline engine.
"""

from studio.api.resources._pagination import AsyncPager
from studio.api.resources.api_status import ApiStatusResource
from studio.api.resources.datasets import DatasetsResource
from studio.api.resources.fine_tunes import FineTunesResource
from studio.api.resources.infill import InfillResource
from studio.api.resources.pronunciation_dicts import PronunciationDictsResource
from studio.api.resources.stt import STTResource
from studio.api.resources.tts import TTSResource
from studio.api.resources.voice_changer import VoiceChangerResource
from studio.api.resources.voices import VoicesResource

__all__ = [
    "ApiStatusResource",
    "AsyncPager",
    "DatasetsResource",
    "FineTunesResource",
    "InfillResource",
    "PronunciationDictsResource",
    "STTResource",
    "TTSResource",
    "VoiceChangerResource",
    "VoicesResource",
]
