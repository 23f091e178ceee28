"""Where the API key is kept: the OS keyring, or a clearly labelled fallback file.

The ``keyring`` library picks the platform's store (Secret Service on Linux, Keychain
on macOS, Credential Manager on Windows). Where it has none (its ``fail`` backend,
which raises :class:`keyring.errors.NoKeyringError`), or the store refuses, the key
goes to :data:`FALLBACK_NAME` in the config folder, mode 0600, and
:attr:`KeyStore.location` says so for the Settings dialog. Qt-free.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "cartesia-studio"
USERNAME = "api-key"
FALLBACK_NAME = "api-key.fallback"


class KeyStoreError(Exception):
    """The key could be kept neither in the keyring nor in the fallback file."""


class KeyStore:
    """The API key in the OS keyring (service ``cartesia-studio``, user ``api-key``).

    Attributes:
        fallback_path: the 0600 file used where no keyring is available.
    """

    def __init__(self, config_folder: Path, backend: KeyringBackend | None = None) -> None:
        """``backend`` defaults to ``keyring.get_keyring()`` (resolved on first use, so
        importing the studio never loads keyring's backends)."""
        self.fallback_path = config_folder / FALLBACK_NAME
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    @property
    def has_keyring(self) -> bool:
        """False when keyring found no store (its ``fail`` backend)."""
        from keyring.backends import fail

        return not isinstance(self._keyring(), fail.Keyring)

    @property
    def uses_fallback(self) -> bool:
        """True when the key is (or would be) kept in :attr:`fallback_path`."""
        return not self.has_keyring or self.fallback_path.exists()

    @property
    def location(self) -> str:
        """Where the key is kept, for the Settings dialog."""
        if not self.has_keyring:
            return f"the fallback file {self.fallback_path} (no OS keyring is available)"
        if self.fallback_path.exists():
            return f"the fallback file {self.fallback_path} (the OS keyring refused the key)"
        return f"the OS keyring ({self._keyring().name})"

    def get(self) -> str:
        """The saved key, or "" for none. A keyring that fails is logged, not raised."""
        from keyring.errors import KeyringError

        if self.has_keyring:
            try:
                key = self._keyring().get_password(SERVICE, USERNAME)
            except KeyringError as exc:
                log.warning("keyring: cannot read the API key (%s)", exc)
            else:
                if key:
                    return key
        try:
            return self.fallback_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""
        except OSError as exc:
            log.warning("cannot read %s (%s)", self.fallback_path, exc)
            return ""

    def set(self, key: str) -> None:
        """Save ``key`` ("" deletes it): in the keyring, else in the fallback file.

        Raises:
            KeyStoreError: neither could be written.
        """
        from keyring.errors import KeyringError

        key = key.strip()
        if not key:
            self.delete()
            return
        if self.has_keyring:
            try:
                self._keyring().set_password(SERVICE, USERNAME, key)
            except KeyringError as exc:
                log.warning("keyring: cannot save the API key (%s); using %s",
                            exc, self.fallback_path)
            else:
                self.fallback_path.unlink(missing_ok=True)
                return
        try:
            _write_private(self.fallback_path, key)
        except OSError as exc:
            raise KeyStoreError(f"Could not save the API key: {exc}") from exc
        if self.has_keyring:  # a stale keyring entry must not win over the new key
            with contextlib.suppress(KeyringError):  # PasswordDeleteError: there was none
                self._keyring().delete_password(SERVICE, USERNAME)

    def delete(self) -> None:
        """Remove the key from the keyring and the fallback file (absent is fine)."""
        from keyring.errors import KeyringError, PasswordDeleteError

        if self.has_keyring:
            try:
                self._keyring().delete_password(SERVICE, USERNAME)
            except PasswordDeleteError:
                pass  # there was none
            except KeyringError as exc:
                log.warning("keyring: cannot delete the API key (%s)", exc)
        self.fallback_path.unlink(missing_ok=True)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to ``path``, mode 0600 from creation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
