"""Where uploaded files live: one interface for every feature's attachments.

Areas: ``meeting_uploads`` (a 통통데이 request's attachment) and ``card_photos`` (동 관리카드
and field-visit photos). The default, :class:`LocalStorage`, keeps them under
``ATTACHMENTS_DIR/<area>/`` (default: the instance folder). With several machines behind a load
balancer, ``ATTACHMENTS_DIR`` must be one shared volume mounted on every machine (NFS, a cloud
file share): a file uploaded through one machine is then served by any other. See
``docs/operations.md`` ("Several machines").

File names are chosen by the application (random, never the uploader's); names given here are
reduced to their last path part, so nothing outside an area's folder can be read or written.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, current_app, send_file

AREAS = ("meeting_uploads", "card_photos")


class LocalStorage:
    """Files in a folder of this machine, or of a volume shared by every machine."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else None  # None: the app's instance folder, when used

    def folder(self, area: str) -> str:
        """The folder of an area (services that write files are given this)."""
        if area not in AREAS:
            raise ValueError(f"unknown storage area: {area}")
        return str((self.root or Path(current_app.instance_path)) / area)

    def path(self, area: str, name: str) -> Path:
        return Path(self.folder(area)) / Path(name).name

    def save(self, area: str, name: str, data: bytes) -> None:
        path = self.path(area, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)  # readers on other machines never see half a file

    def read(self, area: str, name: str) -> bytes | None:
        path = self.path(area, name)
        return path.read_bytes() if path.is_file() else None

    def exists(self, area: str, name: str) -> bool:
        return self.path(area, name).is_file()

    def delete(self, area: str, name: str) -> None:
        self.path(area, name).unlink(missing_ok=True)

    def send(
        self,
        area: str,
        name: str,
        *,
        mimetype: str | None,
        as_attachment: bool = False,
        download_name: str | None = None,
    ) -> Response:
        """The file as a response (404 when it is not there)."""
        path = self.path(area, name)
        if not path.is_file():
            abort(404)
        response = send_file(
            path, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def storage() -> LocalStorage:
    return current_app.extensions["civic_storage"]


def init_app(app: Flask) -> None:
    app.extensions["civic_storage"] = LocalStorage(app.config.get("ATTACHMENTS_DIR"))
